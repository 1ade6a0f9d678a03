// Keras .h5 weights through h5wasm: layouts become PyTorch's (conv HWIO -> OIHW, dense
// [in, out] -> [out, in], a dense layer after a channel-last flatten reordered to cnnc's
// channel-first flatten), Keras' batchnorm names become running statistics, and the YOLOv2 name
// map places every tensor of the course's yolo.h5 (YAD2K) names.
// The .h5 file is written here in Keras' layout (keras/saving: `model_weights/` with
// `layer_names`, per layer `weight_names` and datasets `<layer>/<layer>/<kind>:0`).

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { pruneProgram } from '../../compiler/ir/program.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { f32, type HostTensor } from '../../runtime/tensor.ts';
import { readWeightsFor, toModelNames } from '../../runtime/weights/load.ts';
import { cnnc } from '../support/cli.ts';
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

/** Per Keras layer, its weights in order: kind (`kernel`, `bias`, ...), data and shape in PyTorch's layout. */
type KerasLayers = Record<string, [kind: string, data: Float32Array, torchShape: number[]][]>;

/** Writes `layers` as Keras saves a model (kernels in Keras' layout). */
async function writeKerasH5(path: string, layers: KerasLayers): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const root = f.create_group('model_weights');
  root.create_attribute('layer_names', Object.keys(layers));
  for (const [layer, entries] of Object.entries(layers)) {
    const g = root.create_group(layer);
    g.create_attribute('weight_names', entries.map(([kind]) => `${layer}/${kind}:0`));
    const inner = g.create_group(layer);
    for (const [kind, torchData, torchShape] of entries) {
      const { data, shape } = kind === 'kernel' ? toKeras(torchData, torchShape) : { data: torchData, shape: torchShape };
      inner.create_dataset({ name: `${kind}:0`, data, shape, dtype: '<f' });
    }
  }
  f.close();
}

function compile(file: string, model: string, overrides?: Record<string, number>): ModelGraph {
  return compileModel({ file: resolve(file), model, overrides }).graph!;
}

describe('Keras .h5 weights', () => {
  it('convert to PyTorch layouts, including a dense layer after a channel-last flatten', async () => {
    const graph = compile('test/weights/models/keras.cnn', 'KerasSmall');
    const weights = randomizedWeights(graph, 3);
    const shapes = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
    const path = join(dir, 'small.h5');
    const layers: Record<string, [string, string][]> = {
      conv2d_1: [['kernel', 'conv2d_1.weight'], ['bias', 'conv2d_1.bias']],
      batch_normalization_1: [['gamma', 'batch_normalization_1.weight'], ['beta', 'batch_normalization_1.bias'], ['moving_mean', 'batch_normalization_1.running_mean'], ['moving_variance', 'batch_normalization_1.running_var']],
      dense_1: [['kernel', 'dense_1.weight'], ['bias', 'dense_1.bias']],
      dense_2: [['kernel', 'dense_2.weight'], ['bias', 'dense_2.bias']],
    };
    const content: KerasLayers = {};
    for (const [layer, entries] of Object.entries(layers)) {
      content[layer] = entries.map(([kind, name]) => {
        let data = weights.get(name)!;
        const shape = [...shapes.get(name)!];
        if (name === 'dense_1.weight') {
          // Keras' rows follow its (h, w, c) flatten of the 3x3x4 map; cnnc's columns are (c, h, w).
          const [out, cells, channels] = [shape[0]!, 9, 4];
          const hwc = new Float32Array(data.length);
          for (let o = 0; o < out; o++) for (let s = 0; s < cells; s++) for (let c = 0; c < channels; c++) hwc[o * 36 + s * channels + c] = data[o * 36 + c * cells + s]!;
          data = hwc;
        }
        return [kind, data, shape];
      });
    }
    await writeKerasH5(path, content);
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

  it("the course's yolo.h5 names map onto YOLOv2, each tensor onto one of its shape, the output channels in cnnc's order", () => {
    const graph = compile('stdlib/yolo.cnn', 'YOLOv2', { size: 64 });
    const want = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
    // YAD2K's yolo.h5 (yad2k.py from yolo.cfg): conv2d_i kernels as [kh, kw, in, out]; conv2d_21
    // is the 1x1 passthrough from conv2d_13, conv2d_22 reads its space_to_depth (256) and conv2d_20 (1024).
    const kernels: [number, number, number][] = [
      [3, 3, 32], [3, 32, 64], [3, 64, 128], [1, 128, 64], [3, 64, 128], [3, 128, 256], [1, 256, 128], [3, 128, 256],
      [3, 256, 512], [1, 512, 256], [3, 256, 512], [1, 512, 256], [3, 256, 512], [3, 512, 1024], [1, 1024, 512],
      [3, 512, 1024], [1, 1024, 512], [3, 512, 1024], [3, 1024, 1024], [3, 1024, 1024], [1, 512, 64], [3, 1280, 1024], [1, 1024, 425],
    ];
    const file = new Map<string, HostTensor>();
    const tensor = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(0) });
    kernels.forEach(([k, cin, cout], j) => {
      const i = j + 1;
      file.set(`conv2d_${i}.weight`, tensor([cout, cin, k, k]));
      if (i === 23) file.set('conv2d_23.bias', tensor([cout]));
      else for (const kind of ['weight', 'bias', 'running_mean', 'running_var']) file.set(`batch_normalization_${i}.${kind}`, tensor([cout]));
    });
    // conv2d_23's values (PyTorch's layout, as the .h5 reader gives it): every value of output channel o is o.
    const [out, inputs] = [425, 1024];
    file.set('conv2d_23.weight', f32([out, inputs, 1, 1], Float32Array.from({ length: out * inputs }, (_, k) => Math.floor(k / inputs))));
    file.set('conv2d_23.bias', f32([out], Float32Array.from({ length: out }, (_, o) => o)));
    const loaded = toModelNames(graph, file, 'yolo.h5');
    expect(loaded.map?.source).toBe('keras');
    expect([...loaded.tensors.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, t] of loaded.tensors) expect(t.shape, name).toEqual([...want.get(name)!]);
    // Per anchor YAD2K's [tx, ty, tw, th, to, c1..c80] becomes cnnc's [to, tx, ty, tw, th, c1..c80].
    const fileChannel = (c: number): number => Math.floor(c / 85) * 85 + ([4, 0, 1, 2, 3][c % 85] ?? c % 85);
    const expected = Array.from({ length: out }, (_, c) => fileChannel(c));
    expect(expected.slice(0, 7)).toEqual([4, 0, 1, 2, 3, 5, 6]);
    expect(expected.slice(85, 90)).toEqual([89, 85, 86, 87, 88]);
    expect(Array.from(loaded.tensors.get('conv23.bias')!.data as Float32Array)).toEqual(expected);
    const weight = loaded.tensors.get('conv23.weight') as HostTensor<'F32'>;
    expect(Array.from({ length: out }, (_, c) => weight.data[c * inputs + inputs - 1])).toEqual(expected);
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

describe("a name map's channel order: YAD2K's [tx, ty, tw, th, to, classes] per anchor to cnnc's [to, tx, ty, tw, th, classes]", () => {
  // test/weights/models/yad2k.names: `conv2d_1  head  channels 4 0 1 2 3 per 7` (2 anchors, 2 classes).
  const graph = compile('test/weights/models/yad2k.cnn', 'Yad2kHead');
  const fileChannel = (c: number): number => Math.floor(c / 7) * 7 + [4, 0, 1, 2, 3, 5, 6][c % 7]!;
  // The file's 1x1 convolution in PyTorch's layout [14, 3, 1, 1], its channels in YAD2K's order.
  const weight = Float32Array.from({ length: 42 }, (_, k) => Math.sin(k + 1));
  const bias = Float32Array.from({ length: 14 }, (_, j) => j / 10 - 0.6);

  function expectCnncOrder(tensors: ReadonlyMap<string, HostTensor>): void {
    const w = tensors.get('head.weight') as HostTensor<'F32'>;
    expect(w.shape).toEqual([14, 3, 1, 1]);
    expect(Array.from(w.data)).toEqual(Array.from({ length: 42 }, (_, k) => weight[fileChannel(Math.floor(k / 3)) * 3 + (k % 3)]));
    expect(Array.from(tensors.get('head.bias')!.data as Float32Array)).toEqual(Array.from({ length: 14 }, (_, c) => bias[fileChannel(c)]));
  }

  it("a Keras .h5 output convolution gives cnnc's channel order once loaded", async () => {
    const path = join(dir, 'yad2k.h5');
    await writeKerasH5(path, { conv2d_1: [['kernel', weight, [14, 3, 1, 1]], ['bias', bias, [14]]] });
    const loaded = await readWeightsFor(graph, path);
    expect(loaded.note).toContain('keras names, mapped by ');
    expectCnncOrder(loaded.tensors);

    // The loaded model's outputs are YAD2K's, channel for channel, in cnnc's order.
    const lowered = lowerModel(graph, { batch: 1, mode: 'eval' });
    const program = pruneProgram({ nodes: lowered.builder.nodes, outputs: new Map([['head', lowered.values.get('head')!]]), updates: [] });
    const store = new Map([...lowered.persistent.keys()].map((n) => [n, loaded.tensors.get(n)!.data as Float32Array]));
    expect(lowered.feeds.get('image')).toEqual([1, 3, 2, 2]);
    const image = Float32Array.from({ length: 12 }, (_, k) => Math.cos(k));
    const y = evaluate(program, new Map([['image', image]]), store)[program.outputs.get('head')!]!;
    // YAD2K's output channel j at pixel p: the file's convolution, in the file's order.
    const yad2k = (j: number, p: number): number => bias[j]! + [0, 1, 2].reduce((s, i) => s + weight[j * 3 + i]! * image[i * 4 + p]!, 0);
    for (let c = 0; c < 14; c++) for (let p = 0; p < 4; p++) expect(y[c * 4 + p]!, `channel ${c}, pixel ${p}`).toBeCloseTo(yad2k(fileChannel(c), p), 5);
  });

  it('a safetensors file under the same names is reordered the same way', async () => {
    const path = join(dir, 'yad2k.safetensors');
    writeSafetensorsFile(path, new Map([['conv2d_1.weight', f32([14, 3, 1, 1], weight)], ['conv2d_1.bias', f32([14], bias)]]));
    expectCnncOrder((await readWeightsFor(graph, path)).tensors);
  });

  it('a channel count the group size does not divide is one error naming the .names file and line', () => {
    const file = new Map([['conv2d_1.weight', f32([15, 3, 1, 1], new Float32Array(45))]]);
    expect(() => toModelNames(graph, file, 'w.safetensors')).toThrow(/yad2k\.names:3: 'channels \.\. per 7' needs a multiple of 7 output channels, but 'conv2d_1\.weight' has 15$/);
  });

  it('the command line reports a bad directive as one line with file and line, exit 1', () => {
    const copy = join(dir, 'bad-map');
    mkdirSync(copy);
    copyFileSync('test/weights/models/yad2k.cnn', join(copy, 'yad2k.cnn'));
    writeFileSync(join(copy, 'yad2k.names'), 'map keras for Yad2kHead\n  conv2d_1  head  channels 4 0 1 2 2 per 7\n');
    const weights = join(copy, 'w.safetensors');
    writeSafetensorsFile(weights, new Map([['conv2d_1.weight', f32([14, 3, 1, 1], weight)], ['conv2d_1.bias', f32([14], bias)]]));
    const r = cnnc(['export', join(copy, 'yad2k.cnn'), '--to', 'onnx', '--weights', weights, '-o', join(copy, 'out.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/yad2k\.names:2: '4 0 1 2 2' is not a permutation of 0\.\.4 \(missing 3\)/)]);
    expect(existsSync(join(copy, 'out.onnx'))).toBe(false);
  });
});
