// Style transfer's VGG-19 is torchvision's: a `vgg19()` state_dict's features, saved unchanged
// (`features.0.weight`, ...), load into stdlib/style_transfer.cnn through its name map, and the
// activations at conv1_1 .. conv5_1 equal torchvision's within 1e-4 relative. The fixture comes
// from scripts/style_fixtures.py (every 5th value of each activation, float64 in PyTorch); the
// 20M weights are regenerated here by the generator the script uses.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { leavesOf, pruneProgram } from '../../compiler/ir/program.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { readSafetensorsWithMetadata } from '../../runtime/safetensors.ts';
import { toFloat32 } from '../../runtime/tensor.ts';
import { readWeightsFor } from '../../runtime/weights/load.ts';
import { generated } from '../weights/generated.ts';

const fixturePath = resolve('test/fixtures/style/vgg19_features.safetensors');
const fixture = readSafetensorsWithMetadata(new Uint8Array(readFileSync(fixturePath)), fixturePath);
const meta = fixture.metadata!;
const [seed, size, stride] = [Number(meta.seed), Number(meta.size), Number(meta.stride)];
const dir = mkdtempSync(join(tmpdir(), 'cnnc-vgg19-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** torchvision's vgg19().features: conv indices and widths (M = max pool). */
const CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'] as const;

function torchvisionState(): Map<string, readonly number[]> {
  const state = new Map<string, readonly number[]>();
  let index = 0;
  let channels = 3;
  for (const v of CFG) {
    if (v === 'M') {
      index += 1;
      continue;
    }
    state.set(`features.${index}.weight`, [v, channels, 3, 3]);
    state.set(`features.${index}.bias`, [v]);
    channels = v;
    index += 2; // conv, relu
  }
  return state;
}

it("StyleTransfer's extractor gives torchvision VGG-19's conv1_1 .. conv5_1 from features.N weights", async () => {
  const graph = compileModel({ file: resolve('stdlib/style_transfer.cnn'), overrides: { height: size, width: size } }).graph!;
  const path = join(dir, 'vgg19.safetensors');
  writeSafetensorsFile(path, new Map([...torchvisionState()].map(([name, shape]) => [name, generated(name, shape, seed)])));
  const loaded = await readWeightsFor(graph, path);
  expect(loaded.map?.source).toBe('torchvision');

  const lowered = lowerModel(graph, { batch: 1, mode: 'eval' });
  const layers = [...fixture.tensors.keys()];
  expect(layers.sort()).toEqual(['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']);
  const program = pruneProgram({ nodes: lowered.builder.nodes, outputs: new Map(layers.map((l) => [l, lowered.values.get(`c.${l}`)!])), updates: [] });
  const store = new Map(leavesOf(program, 'param').map((l) => [l.name, toFloat32(loaded.tensors.get(l.name)!)]));
  const values = evaluate(program, new Map([['content_image', generated('input', [1, 3, size, size], seed).data]]), store);
  for (const layer of layers) {
    const ours = values[program.outputs.get(layer)!]!.filter((_, i) => i % stride === 0);
    const theirs = toFloat32(fixture.tensors.get(layer)!);
    expect(ours.length, layer).toBe(theirs.length);
    const scale = Math.max(...theirs.map(Math.abs));
    const worst = Math.max(...theirs.map((v, i) => Math.abs(ours[i]! - v)));
    expect(scale, layer).toBeGreaterThan(0);
    expect(worst / scale, layer).toBeLessThan(1e-4);
  }
});
