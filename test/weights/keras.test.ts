// Keras .h5 weights through h5wasm: layouts become PyTorch's (conv HWIO -> OIHW, dense
// [in, out] -> [out, in], a dense layer after a channel-last flatten reordered to cnnc's
// channel-first flatten), Keras' batchnorm names become running statistics, and the YOLOv2 name
// map places every tensor of the course's yolo.h5 (YAD2K) names.
// The .h5 file is written here in Keras' layout (keras/saving: `model_weights/` with
// `layer_names`, per layer `weight_names` and datasets `<layer>/<layer>/<kind>:0`).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { readWeightsFor, toModelNames } from '../../runtime/weights/load.ts';
import { randomizedWeights } from '../export/weights.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-h5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** OIHW (or [out, in]) to Keras' kernel layout: (out, in) move to the end as (in, out). */
function toKeras(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  const kShape = [...shape.slice(2), shape[1]!, shape[0]!];
  const out = new Float32Array(data.length);
  const spatial = shape.slice(2).reduce((a, b) => a * b, 1);
  for (let o = 0; o < shape[0]!; o++) {
    for (let i = 0; i < shape[1]!; i++) {
      for (let s = 0; s < spatial; s++) out[(s * shape[1]! + i) * shape[0]! + o] = data[(o * shape[1]! + i) * spatial + s]!;
    }
  }
  return { data: out, shape: r === 2 ? [shape[1]!, shape[0]!] : kShape };
}

function compile(file: string, model: string, overrides?: Record<string, number>): ModelGraph {
  return compileModel({ file: resolve(file), model, overrides }).graph!;
}

describe('Keras .h5 weights', () => {
  it('convert to PyTorch layouts, including a dense layer after a channel-last flatten', async () => {
    const graph = compile('test/weights/models/keras.cnn', 'KerasSmall');
    const weights = randomizedWeights(graph, 3);
    const shapes = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
    await h5wasm.ready;
    const path = join(dir, 'small.h5');
    const f = new h5wasm.File(path, 'w');
    const root = f.create_group('model_weights');
    const layers: Record<string, [string, string][]> = {
      conv2d_1: [['kernel', 'conv2d_1.weight'], ['bias', 'conv2d_1.bias']],
      batch_normalization_1: [['gamma', 'batch_normalization_1.weight'], ['beta', 'batch_normalization_1.bias'], ['moving_mean', 'batch_normalization_1.running_mean'], ['moving_variance', 'batch_normalization_1.running_var']],
      dense_1: [['kernel', 'dense_1.weight'], ['bias', 'dense_1.bias']],
      dense_2: [['kernel', 'dense_2.weight'], ['bias', 'dense_2.bias']],
    };
    root.create_attribute('layer_names', Object.keys(layers));
    for (const [layer, entries] of Object.entries(layers)) {
      const g = root.create_group(layer);
      g.create_attribute('weight_names', entries.map(([kind]) => `${layer}/${kind}:0`));
      const inner = g.create_group(layer);
      for (const [kind, name] of entries) {
        let data = weights.get(name)!;
        let shape = [...shapes.get(name)!];
        if (name === 'dense_1.weight') {
          // Keras' rows follow its (h, w, c) flatten of the 3x3x4 map; cnnc's columns are (c, h, w).
          const [out, cells, channels] = [shape[0]!, 9, 4];
          const hwc = new Float32Array(data.length);
          for (let o = 0; o < out; o++) for (let s = 0; s < cells; s++) for (let c = 0; c < channels; c++) hwc[o * 36 + s * channels + c] = data[o * 36 + c * cells + s]!;
          data = hwc;
        }
        if (kind === 'kernel') ({ data, shape } = toKeras(data, shape));
        inner.create_dataset({ name: `${kind}:0`, data, shape, dtype: '<f' });
      }
    }
    f.close();
    const loaded = await readWeightsFor(graph, path);
    expect([...loaded.tensors.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, w] of weights) {
      expect(loaded.tensors.get(name)!.shape, name).toEqual([...shapes.get(name)!]);
      expect(Array.from(loaded.tensors.get(name)!.data as Float32Array), name).toEqual(Array.from(w));
    }
  });

  it('a missing file or one that is not HDF5 is one clear error', async () => {
    const graph = compile('test/weights/models/keras.cnn', 'KerasSmall');
    const bad = join(dir, 'bad.h5');
    writeFileSync(bad, 'not hdf5 at all, but long enough to be checked at offset 0');
    await expect(readWeightsFor(graph, bad)).rejects.toThrow(/bad\.h5: not an HDF5 file \(no HDF5 signature\)$/);
    await expect(readWeightsFor(graph, join(dir, 'none.h5'))).rejects.toThrow(/none\.h5: no such file$/);
  });

  it("the course's yolo.h5 names map onto YOLOv2, each tensor onto one of its shape", () => {
    const graph = compile('stdlib/yolo.cnn', 'YOLOv2', { size: 64 });
    const want = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
    // YAD2K's yolo.h5 (yad2k.py from yolo.cfg): conv2d_i kernels as [kh, kw, in, out]; conv2d_21
    // is the 1x1 passthrough from conv2d_13, conv2d_22 reads its space_to_depth (256) and conv2d_20 (1024).
    const kernels: [number, number, number][] = [
      [3, 3, 32], [3, 32, 64], [3, 64, 128], [1, 128, 64], [3, 64, 128], [3, 128, 256], [1, 256, 128], [3, 128, 256],
      [3, 256, 512], [1, 512, 256], [3, 256, 512], [1, 512, 256], [3, 256, 512], [3, 512, 1024], [1, 1024, 512],
      [3, 512, 1024], [1, 1024, 512], [3, 512, 1024], [3, 1024, 1024], [3, 1024, 1024], [1, 512, 64], [3, 1280, 1024], [1, 1024, 425],
    ];
    const file = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    const tensor = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(0) });
    kernels.forEach(([k, cin, cout], j) => {
      const i = j + 1;
      file.set(`conv2d_${i}.weight`, tensor([cout, cin, k, k]));
      if (i === 23) file.set('conv2d_23.bias', tensor([cout]));
      else for (const kind of ['weight', 'bias', 'running_mean', 'running_var']) file.set(`batch_normalization_${i}.${kind}`, tensor([cout]));
    });
    const loaded = toModelNames(graph, file, 'yolo.h5');
    expect(loaded.map?.source).toBe('keras');
    expect([...loaded.tensors.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, t] of loaded.tensors) expect(t.shape, name).toEqual([...want.get(name)!]);
  });

  it("the course's FaceRecoModel names map onto the FaceNet encoder", () => {
    // Layer names as inception_blocks_v2.py and fr_utils.conv2d_bn create them.
    const keras = ['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3', 'dense_layer'];
    const blocks: [string, string[]][] = [
      ['3a', ['3x3', '5x5', 'pool', '1x1']], ['3b', ['3x3', '5x5', 'pool', '1x1']], ['3c', ['3x3', '5x5']],
      ['4a', ['3x3', '5x5', 'pool', '1x1']], ['4e', ['3x3', '5x5']], ['5a', ['3x3', 'pool', '1x1']], ['5b', ['3x3', 'pool', '1x1']],
    ];
    for (const [b, branches] of blocks) {
      for (const branch of branches) {
        const two = branch === '3x3' || branch === '5x5';
        keras.push(...(two ? ['conv1', 'bn1', 'conv2', 'bn2'] : ['conv', 'bn']).map((s) => `inception_${b}_${branch}_${s}`));
      }
    }
    const file = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    for (const layer of keras) {
      const kinds = layer.includes('bn') ? ['weight', 'bias', 'running_mean', 'running_var'] : ['weight', 'bias'];
      for (const kind of kinds) file.set(`${layer}.${kind}`, { dtype: 'F32', shape: [], data: new Float32Array(0) });
    }
    const graph = compile('stdlib/facenet.cnn', 'FaceNetTriplet');
    const want = graph.layers.flatMap((l) => l.params.map((p) => p.name));
    const loaded = toModelNames(graph, file, 'facenet.h5');
    expect(loaded.map?.source).toBe('keras');
    expect([...loaded.tensors.keys()].sort()).toEqual([...want].sort());
  });
});
