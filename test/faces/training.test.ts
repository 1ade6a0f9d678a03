// Triplet training with mined triplets on generated identities: the loss falls and the ROC AUC on
// identities never trained on rises well above the untrained encoder's. Pair training
// (FaceVerification's form) lowers its loss.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { chooseEncoding, encodeDataset, openEncoder } from '../../runtime/faces/encoder.ts';
import { metricKind, trainMetric, type StepReport } from '../../runtime/faces/metric-training.ts';
import { allPairDistances, rocAuc } from '../../runtime/faces/verification.ts';
import { initialWeights } from '../../runtime/init.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { FACE_MODELS, faceDataset } from './generated.ts';

const PAIR_MODEL = `
block enc()(x) {
  x -> flatten -> dense 8 -> l2_normalize
}
model Pairs {
  input first: 8 x 8 x 1
  input second: 8 x 8 x 1
  share encoder = enc()
  a = encoder(first)
  b = encoder(second)
  abs(a - b) as distance
  dense 1 as logistic -> sigmoid
  loss binary_cross_entropy
}
`;

function compile(source: string, model: string): ModelGraph {
  const dir = mkdtempSync(join(tmpdir(), 'cnnc-faces-'));
  writeFileSync(join(dir, 'm.cnn'), source);
  const r = compileModel({ file: join(dir, 'm.cnn'), model, overrides: {} });
  if (!r.graph) throw new Error(JSON.stringify(r.diagnostics));
  return r.graph;
}

/** Held-out ROC AUC on 10 identities the training never saw. */
async function heldOutAuc(weights: Map<string, Float32Array>): Promise<number> {
  const graph = compile(FACE_MODELS, 'Encoder');
  const encoder = await openEncoder(graph, chooseEncoding(graph), weights, cpuExecutor, 50);
  const { encodings, labels } = await encodeDataset(encoder, faceDataset(100, 10, 10));
  return rocAuc(allPairDistances(encodings, labels));
}

describe('metric training', () => {
  it('recognises the triplet and pair models', () => {
    expect(metricKind(compile(FACE_MODELS, 'Triplet'))).toEqual({ kind: 'triplet', margin: 0.2, inputs: ['anchor', 'positive', 'negative'] });
    expect(metricKind(compile(PAIR_MODEL, 'Pairs'))).toEqual({ kind: 'pairs', inputs: ['first', 'second'], target: 'targets' });
    expect(metricKind(compile(FACE_MODELS, 'Encoder'))).toBeUndefined();
    // The one-shot demo's models (docs/faces.md).
    const demo = (model: string) => compileModel({ file: 'examples/fashion-encoder.cnn', model, overrides: {} });
    expect(demo('FashionEncoder').diagnostics).toEqual([]);
    expect(metricKind(demo('FashionTriplet').graph!)?.kind).toBe('triplet');
    expect(metricKind(demo('FashionVerification').graph!)?.kind).toBe('pairs');
  });

  it('semi-hard triplet training: loss falls, held-out ROC AUC rises well above the untrained encoder', async () => {
    const graph = compile(FACE_MODELS, 'Triplet');
    const untrained = await heldOutAuc(initialWeights(graph, 0));
    const steps: StepReport[] = [];
    const result = await trainMetric(graph, faceDataset(0, 8, 12), cpuExecutor, {
      identities: 6,
      perIdentity: 4,
      mining: 'semi-hard',
      epochs: 8,
      stepsPerEpoch: 20,
      optimizer: { kind: 'adam', lr: 0.02 },
      seed: 0,
      onStep: (s) => steps.push(s),
    });
    const [first, last] = [result.epochs[0], result.epochs.at(-1)!];
    expect(last.loss).toBeLessThan(first.loss / 2);
    expect(last.active!).toBeLessThan(first.active!);
    expect(steps.every((s) => s.active !== undefined && s.active >= 0 && s.active <= 1)).toBe(true);
    const trained = await heldOutAuc(result.weights);
    expect(untrained).toBeLessThan(0.65);
    expect(trained).toBeGreaterThan(untrained + 0.25);
  });

  it('resumes from its checkpoint exactly where it stopped', async () => {
    const graph = compile(FACE_MODELS, 'Triplet');
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-faces-resume-'));
    const options = { identities: 4, perIdentity: 3, mining: 'semi-hard' as const, stepsPerEpoch: 3, optimizer: { kind: 'adam' as const, lr: 0.02 }, seed: 5 };
    const straight = await trainMetric(graph, faceDataset(0, 6, 6), cpuExecutor, { ...options, epochs: 2 });
    const first = join(dir, 'first.safetensors');
    await trainMetric(graph, faceDataset(0, 6, 6), cpuExecutor, { ...options, epochs: 1, checkpoint: first });
    const ckpt = loadCheckpoint(first);
    const tensors = new Map([...ckpt.weights, ...ckpt.optimizer].map(([n, t]) => [n, t.data as Float32Array]));
    const resumed = await trainMetric(graph, faceDataset(0, 6, 6), cpuExecutor, { ...options, epochs: 2, resume: { tensors, epoch: ckpt.position.epoch, step: ckpt.position.step, rng: ckpt.position.rng } });
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(resumed.epochs[0].loss).toBe(straight.epochs[1].loss);
    expect(resumed.weights.get('encoder.dense_1.weight')).toEqual(straight.weights.get('encoder.dense_1.weight'));
  });

  it('pair training lowers the binary cross-entropy', async () => {
    const result = await trainMetric(compile(PAIR_MODEL, 'Pairs'), faceDataset(0, 8, 12), cpuExecutor, {
      identities: 6,
      perIdentity: 4,
      mining: 'semi-hard',
      epochs: 6,
      stepsPerEpoch: 20,
      optimizer: { kind: 'adam', lr: 0.02 },
      seed: 0,
    });
    expect(result.epochs.at(-1)!.loss).toBeLessThan(result.epochs[0].loss * 0.8);
  });
});
