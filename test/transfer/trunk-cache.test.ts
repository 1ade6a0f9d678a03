// The trunk cache on real Fashion-MNIST images (CPU executor): the head run on cached activations
// gives the full model's outputs; the file is reused when everything matches and recomputed when
// the trunk's weights, the data or its preparation change; the head's session state is the model's.

import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitAt } from '../../compiler/graph-split.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { compileModel } from '../../compiler/program.ts';
import { evalBatches } from '../../runtime/data/pipeline.ts';
import { loadData } from '../../runtime/data/spec.ts';
import { subset, type Dataset } from '../../runtime/data/dataset.ts';
import { initialWeights } from '../../runtime/init.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { cacheTrunk, featureShape, withFrozenTrunk, type TrunkCacheOptions } from '../../runtime/train/trunk-cache.ts';

const lenet = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
const weights = initialWeights(lenet, 3);
const images = subset(loadData('fashion-mnist-bundled').train, 0, 37);
const fit = { height: 32, width: 32 };
const data = { spec: 'fashion-mnist-bundled', part: 'train', fingerprint: 'f' };

function options(dir: string, split: string, over: Partial<TrunkCacheOptions> = {}): TrunkCacheOptions {
  return { dir, trunk: splitAt(lenet, split).trunk, weights, data, pipeline: { fit }, batch: 16, ...over };
}

/** Runs a graph's inference program over `ds` with the given feed name, batch by batch. */
function infer(graph: ModelGraph, feed: string, ds: Dataset, pipeline: { fit?: typeof fit }): Float32Array[] {
  const program = buildInferenceProgram(graph, 1);
  const out: Float32Array[] = [];
  for (const b of evalBatches(ds, { ...pipeline, batchSize: 1 })) out.push(runProgram(program, new Map([[feed, b.images]]), new Map(weights)).get(`output:${graph.outputs[0]}`)!);
  return out;
}

describe('cacheTrunk', () => {
  it('lays activations out as the data sets do', () => {
    expect(featureShape([5, 5, 16])).toEqual([16, 5, 5]);
    expect(featureShape([120])).toEqual([120, 1, 1]);
    expect(featureShape([10, 4])).toEqual([4, 10, 1]);
  });

  it('the head on cached activations gives the full model outputs (spatial cut, short last batch)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-trunk-'));
    const { head } = splitAt(lenet, 'maxpool_2');
    const c = await cacheTrunk(images, options(dir, 'maxpool_2'));
    expect(c.reused).toBe(false);
    expect(c.dataset.shape).toEqual([16, 5, 5]);
    expect(c.dataset.length).toBe(37);
    expect(Array.from(c.dataset.labels)).toEqual(Array.from({ length: 37 }, (_, i) => images.get(i).label));
    const full = infer(lenet, 'image', images, { fit });
    const viaHead = infer(head, 'maxpool_2', c.dataset, {});
    for (let i = 0; i < full.length; i++) for (let k = 0; k < 10; k++) expect(viaHead[i]![k]).toBeCloseTo(full[i]![k]!, 6);
  });

  it('reuses a matching file and never a stale one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-trunk-'));
    const first = await cacheTrunk(images, options(dir, 'relu_3'));
    const again = await cacheTrunk(images, options(dir, 'relu_3'));
    expect(again.reused).toBe(true);
    expect(again.path).toBe(first.path);
    expect(again.dataset.pixels).toEqual(first.dataset.pixels);

    const changed = new Map(weights);
    const w = changed.get('conv_1.weight')!.slice();
    w[0]! += 1e-3;
    changed.set('conv_1.weight', w);
    const otherWeights = await cacheTrunk(images, options(dir, 'relu_3', { weights: changed }));
    expect(otherWeights.reused).toBe(false);
    expect(otherWeights.dataset.pixels).not.toEqual(first.dataset.pixels);
    // A weight after the cut is not the trunk's: same cache.
    const headChanged = new Map(weights).set('dense_3.bias', new Float32Array(10).fill(7));
    expect((await cacheTrunk(images, options(dir, 'relu_3', { weights: headChanged }))).reused).toBe(true);
    const otherData = await cacheTrunk(images, options(dir, 'relu_3', { data: { ...data, fingerprint: 'g' } }));
    expect(otherData.reused).toBe(false);
    const otherPrep = await cacheTrunk(images, options(dir, 'relu_3', { pipeline: { fit, normalize: { mean: [0.5], std: [0.25] } } }));
    expect(otherPrep.reused).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('relu_3-')).length).toBe(4);

    // A damaged file is recomputed and replaced, not trusted.
    writeFileSync(first.path, 'not safetensors');
    const repaired = await cacheTrunk(images, options(dir, 'relu_3'));
    expect(repaired.reused).toBe(false);
    expect(repaired.dataset.pixels).toEqual(first.dataset.pixels);
    expect((await cacheTrunk(images, options(dir, 'relu_3'))).reused).toBe(true);
  });

  it('a head session wrapped with the trunk saves and checks the whole model state', async () => {
    const { head } = splitAt(lenet, 'relu_3');
    const trunk = new Map(['conv_1.weight', 'conv_1.bias'].map((n) => [n, weights.get(n)!] as const));
    const shapes = new Map([...trunk].map(([n, v]) => [n, [v.length]] as const));
    const session = withFrozenTrunk(await createSession(head, { batch: 4, backend: 'cpu', seed: 3 }), trunk, shapes);
    const state = await session.saveState();
    expect([...state.weights.keys()].sort()).toEqual(['conv_1.bias', 'conv_1.weight', 'dense_2.bias', 'dense_2.weight', 'dense_3.bias', 'dense_3.weight']);
    expect(state.weights.get('conv_1.weight')).toEqual(weights.get('conv_1.weight'));
    await session.loadState(state);
    const tampered = new Map(state.weights).set('conv_1.bias', new Float32Array(6).fill(1));
    await expect(session.loadState({ weights: tampered, optimizer: new Map() })).rejects.toThrow(/frozen trunk weight 'conv_1.bias' differs/);
    session.dispose();
  });
});
