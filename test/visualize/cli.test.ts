// `cnnc visualize`: the nine examples that most activate each unit equal a brute-force pass (one
// example at a time, every position, a full sort), the patches are the units' receptive fields,
// and a first layer's filters are drawn.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { pruneProgram } from '../../compiler/ir/program.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';
import { receptiveFields } from '../../compiler/receptive-field.ts';
import { loadData } from '../../runtime/data/spec.ts';
import { fitCenter } from '../../runtime/data/augment.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { hitOrder, patchBox, type UnitHit } from '../../runtime/visualize/top-patches.ts';
import { cnnc } from '../support/cli.ts';
import { writeRandomWeights } from '../support/random-weights.ts';

const EXAMPLES = 40;
const UNITS = 4;
const dir = mkdtempSync(join(tmpdir(), 'cnnc-visualize-'));
const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
const weightsPath = join(dir, 'lenet.safetensors');
const weights = writeRandomWeights(graph, 3, weightsPath);

/** Every example alone through the CPU reference; per unit all (example, position) pairs sorted. */
function bruteForce(layer: string): UnitHit[][] {
  const lowered = lowerModel(graph, { batch: 1, mode: 'eval' });
  const program = pruneProgram({ nodes: lowered.builder.nodes, outputs: new Map([['y', lowered.values.get(layer)!]]), updates: [] });
  const data = loadData('fashion-mnist-bundled').train;
  const [h, w, c] = graph.layers.find((l) => l.name === layer)!.shape as [number, number, number];
  const best: UnitHit[][] = Array.from({ length: UNITS }, () => []);
  for (let e = 0; e < EXAMPLES; e++) {
    const image = fitCenter(data.get(e).image, data.shape, 32, 32);
    const y = evaluate(program, new Map([['image', image]]), weights)[program.outputs.get('y')!]!;
    for (let u = 0; u < Math.min(UNITS, c); u++) {
      const all: UnitHit[] = [];
      for (let i = 0; i < h * w; i++) all.push({ example: e, y: Math.floor(i / w), x: i % w, activation: y[u * h * w + i]! });
      // The example's strongest position: largest value, first in row-major order on ties.
      best[u]!.push(all.reduce((a, b) => (b.activation > a.activation ? b : a)));
    }
  }
  return best.map((list) => list.sort(hitOrder).slice(0, 9));
}

function run(layer: string, out: string): { units: UnitHit[][]; receptiveField: { size: number[] } } {
  const r = cnnc(['visualize', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--weights', weightsPath, '--data', 'fashion-mnist-bundled', '--layer', layer, '--limit', String(EXAMPLES), '--batch', '16', '--units', String(UNITS), '--backend', 'cpu', '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'top9.json'), 'utf8')) as { units: UnitHit[][]; receptiveField: { size: number[] } };
}

describe('cnnc visualize', () => {
  it("finds the brute-force top-9 of each unit of LeNet-5's second conv, with 14x14 patches", () => {
    const out = join(dir, 'relu_2');
    const found = run('relu_2', out);
    const expected = bruteForce('relu_2');
    expect(found.units).toHaveLength(UNITS);
    found.units.forEach((hits, u) => {
      expect(hits.map((h) => [h.example, h.y, h.x]), `unit ${u}`).toEqual(expected[u]!.map((h) => [h.example, h.y, h.x]));
      hits.forEach((h, k) => expect(h.activation).toBeCloseTo(expected[u]![k]!.activation, 5));
    });
    expect(found.receptiveField.size).toEqual([14, 14]);
    // Unit (0, 0) of conv_2 reads input rows and columns 0..13: its patch is exactly that window.
    expect(patchBox(receptiveFields(graph).get('relu_2')!, 0, 0)).toEqual({ top: 0, left: 0, height: 14, width: 14 });
    const grid = pngjs.PNG.sync.read(readFileSync(join(out, 'unit_000.png')));
    expect([grid.width, grid.height]).toEqual([3 * 56 + 4 * 2, 3 * 56 + 4 * 2]);
    expect(existsSync(join(out, 'filters.png'))).toBe(false);
  });

  it('draws the filters of the first layer', () => {
    const out = join(dir, 'conv_1');
    const found = run('conv_1', out);
    expect(found.units[0]).toEqual(bruteForce('conv_1')[0]!.map((h) => ({ ...h, activation: expect.closeTo(h.activation, 5) })));
    const filters = pngjs.PNG.sync.read(readFileSync(join(out, 'filters.png')));
    // Four 5x5 filters scaled by 9, in one row with 4-pixel gaps.
    expect([filters.width, filters.height]).toEqual([4 * 45 + 5 * 4, 45 + 2 * 4]);
  });

  it('names the layers it can show when the layer is unknown', () => {
    const r = cnnc(['visualize', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--weights', weightsPath, '--data', 'fashion-mnist-bundled', '--layer', 'conv9', '-o', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no layer 'conv9'; layers with feature maps: conv_1, relu_1, maxpool_1/);
  });
});
