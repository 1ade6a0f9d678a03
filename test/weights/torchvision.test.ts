// torchvision state_dicts load into the stdlib models under their own names (the name maps in
// stdlib/*.names), and the models then compute torchvision's logits. Fixtures from
// scripts/pretrained_fixtures.py: names, shapes and logits; the weights are regenerated here.
// CI runs one model per name map (alexnet, vgg, resnet, inception); CNNC_LONG=1 runs all nine.

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
import { cnnc } from '../support/cli.ts';
import type { HostTensor } from '../../runtime/tensor.ts';

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
const QUICK = new Set(['alexnet', 'vgg16', 'resnet18', 'googlenet']);
const dir = mkdtempSync(join(tmpdir(), 'cnnc-tv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('torchvision state_dicts by their own names', () => {
  for (const m of fixture.models) {
    const run = QUICK.has(m.id) || process.env.CNNC_LONG === '1' ? it : it.skip;
    run(`${m.model} (${m.id}) loads every tensor and gives torchvision's logits`, async () => {
      const compiled = compileModel({ file: resolve(m.file), model: m.model, overrides: m.set });
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const graph = compiled.graph!;
      const path = join(dir, `${m.id}.safetensors`);
      writeSafetensorsFile(path, new Map(m.state.map(([name, shape]) => [name, generated(name, shape, fixture.seed)])));
      const loaded = await readWeightsFor(graph, path);
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

describe('the command line loads torchvision names', () => {
  it('cnnc eval reads a torchvision ResNet-18 state_dict, says which map it used, and gets torchvision\'s loss', () => {
    const m = fixture.models.find((x) => x.id === 'resnet18')!;
    const weights = join(dir, 'cli-resnet18.safetensors');
    writeSafetensorsFile(weights, new Map(m.state.map(([name, shape]) => [name, generated(name, shape, fixture.seed)])));
    const data = join(dir, 'cli-data.safetensors');
    const images = generated('input', [m.batch, 3, 32, 32], fixture.seed);
    // The last class for the first example (the data's class count comes from its labels), torchvision's prediction for the others.
    const labels = m.logits.map((row, i) => (i === 0 ? 9 : row.indexOf(Math.max(...row))));
    const correct = m.logits.filter((row, i) => row.indexOf(Math.max(...row)) === labels[i]).length;
    const loss = m.logits.reduce((s, row, i) => s + Math.log(row.reduce((a, z) => a + Math.exp(z), 0)) - row[labels[i]!]!, 0) / m.batch;
    writeSafetensorsFile(data, new Map<string, HostTensor>([['images', images], ['labels', { dtype: 'I64', shape: [m.batch], data: BigInt64Array.from(labels.map(BigInt)) }]]));
    const r = cnnc(['eval', 'stdlib/resnet.cnn', '--model', 'ResNet18', '--set', 'size=32', '--set', 'classes=10', '--weights', weights, '--data', `safetensors:${data}`, '--backend', 'cpu', '--batch', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('torchvision names, mapped by ');
    expect(r.stderr).toContain('resnet.names:5');
    expect(r.stdout).toContain(`accuracy ${((100 * correct) / m.batch).toFixed(2)}%`);
    expect(Math.abs(Number(/^loss (\S+)/m.exec(r.stdout)?.[1]) - loss)).toBeLessThan(2e-4);
  });
});
