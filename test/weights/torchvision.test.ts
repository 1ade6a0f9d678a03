// torchvision state_dicts load into the stdlib models under their own names (the name maps in
// stdlib/*.names), and the models then compute torchvision's logits. Fixtures from
// scripts/pretrained_fixtures.py: names, shapes and logits; the weights are regenerated here.
// CI runs the cheaper models; CNNC_LONG=1 runs all nine.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pruneProgram } from '../../compiler/ir/program.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { modelWeightNames, readWeightsFor, toModelNames } from '../../runtime/weights/load.ts';
import { generated } from './generated.ts';

interface FixtureModel {
  id: string;
  file: string;
  model: string;
  set: Record<string, number>;
  batch: number;
  state: [string, number[]][];
  logits: number[][];
}
const fixture = JSON.parse(readFileSync(resolve('test/fixtures/pretrained/torchvision.json'), 'utf8')) as { seed: number; models: FixtureModel[] };
const QUICK = new Set(['vgg16', 'resnet18', 'googlenet']);
const dir = mkdtempSync(join(tmpdir(), 'cnnc-tv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('torchvision state_dicts by their own names', () => {
  for (const m of fixture.models) {
    const run = QUICK.has(m.id) || process.env.CNNC_LONG === '1' ? it : it.skip;
    run(`${m.model} (${m.id}) loads every tensor and gives torchvision's logits`, () => {
      const compiled = compileModel({ file: resolve(m.file), model: m.model, overrides: m.set });
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const graph = compiled.graph!;
      const path = join(dir, `${m.id}.safetensors`);
      writeSafetensorsFile(path, new Map(m.state.map(([name, shape]) => [name, generated(name, shape, fixture.seed)])));
      const loaded = readWeightsFor(graph, path);
      expect(loaded.map?.source).toBe('torchvision');
      // Every model tensor comes from the file with the right shape, and every file tensor is used.
      const wanted = modelWeightNames(graph);
      expect([...loaded.tensors.keys()].sort()).toEqual([...wanted].sort());

      const lowered = lowerModel(graph, { batch: m.batch, mode: 'eval' });
      for (const [name, shape] of lowered.persistent) expect(loaded.tensors.get(name)!.shape, name).toEqual([...shape]);
      const main = graph.layers.find((l) => l.name === graph.outputs[0])!;
      const logitsLayer = main.attrs.op === 'softmax' ? main.inputs[0]! : main.name;
      const program = pruneProgram({ nodes: lowered.builder.nodes, outputs: new Map([['logits', lowered.values.get(logitsLayer)!]]), updates: [] });
      const store = new Map([...lowered.persistent.keys()].map((n) => [n, loaded.tensors.get(n)!.data as Float32Array]));
      const input = graph.inputs[0]!;
      const feeds = new Map([[input.name, generated('input', [...lowered.feeds.get(input.name)!], fixture.seed).data]]);
      const out = evaluate(program, feeds, store)[program.outputs.get('logits')!]!;
      const expected = m.logits.flat();
      const scale = Math.max(...expected.map(Math.abs));
      const worst = Math.max(...expected.map((v, i) => Math.abs(out[i]! - v)));
      expect(out.length).toBe(expected.length);
      expect(worst / scale).toBeLessThan(1e-4);
    });
  }
});

describe("torchvision's vgg19().features in StyleTransfer's shared extractor", () => {
  const vgg19 = fixture.models.find((m) => m.id === 'vgg19')!;
  const graph = compileModel({ file: resolve('stdlib/style_transfer.cnn'), model: 'StyleTransfer', overrides: { height: 32, width: 32 } }).graph!;
  const shapes = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
  const features = vgg19.state.filter(([name]) => name.startsWith('features.'));
  it.each([
    ['vgg19().state_dict()', features],
    ['vgg19().features.state_dict()', features.map(([name, shape]) => [name.slice('features.'.length), shape] as [string, number[]])],
  ])('%s: every tensor has its place and shape', (_, state) => {
    const loaded = toModelNames(graph, new Map(state.map(([name, shape]) => [name, { dtype: 'F32' as const, shape, data: new Float32Array(0) }])), 'vgg19');
    expect([...loaded.tensors.keys()].sort()).toEqual([...shapes.keys()].sort());
    for (const [name, t] of loaded.tensors) expect(t.shape, name).toEqual([...shapes.get(name)!]);
  });
});
