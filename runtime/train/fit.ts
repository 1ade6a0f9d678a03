// The training loop: epochs of shuffled batches, a checkpoint after each epoch (written atomically),
// exact resume (same next batch, same optimizer state), Ctrl-C saves and stops, and a non-finite
// loss stops with the step named and the last good checkpoint kept.

import { existsSync } from 'node:fs';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../checkpoint.ts';
import type { Dataset } from '../data/dataset.ts';
import { Rng } from '../data/random.ts';
import type { HostTensor } from '../tensor.ts';
import type { Batch, TrainingSession } from './session.ts';
import type { ProgressState } from './progress.ts';

export interface FitOptions {
  readonly epochs: number;
  readonly seed: number;
  /** Checkpoint written after each epoch and on Ctrl-C. */
  readonly checkpoint?: string;
  /** Continue from this checkpoint. */
  readonly resume?: string;
  readonly test?: Dataset;
  /** Prepares a batch from example indices (augmentation goes here). */
  readonly makeBatch?: (dataset: Dataset, indices: Int32Array, epoch: number) => Batch | Promise<Batch>;
  readonly onProgress?: (p: ProgressState) => void;
  readonly onEpoch?: (e: EpochReport) => void;
  /** Set by the caller (SIGINT): the loop saves and returns after the current step. */
  readonly shouldStop?: () => boolean;
  /** Extra fields for the checkpoint's info (model name, optimizer settings). */
  readonly info?: Record<string, string | number>;
}

export interface EpochReport {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export type FitOutcome =
  | { readonly kind: 'done'; readonly epochs: readonly EpochReport[] }
  | { readonly kind: 'interrupted'; readonly epoch: number; readonly step: number }
  | { readonly kind: 'diverged'; readonly message: string; readonly epochs: readonly EpochReport[] };

export class NonFiniteLossError extends Error {}

/** The example order of one epoch: a permutation fixed by (seed, epoch), so resume needs no RNG state. */
export function epochOrder(length: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length }, (_, i) => i);
  Rng.seeded(seed, epoch).shuffle(order);
  return order;
}

/** Copies the examples at `indices` into one NCHW batch. */
export function readBatch(dataset: Dataset, indices: Int32Array): Batch {
  const [c, h, w] = dataset.shape;
  const size = c * h * w;
  const images = new Float32Array(indices.length * size);
  const labels = new Float32Array(indices.length);
  indices.forEach((index, i) => {
    const example = dataset.get(index);
    images.set(example.image, i * size);
    labels[i] = example.label;
  });
  return { images, labels, count: indices.length };
}

function toHost(map: Map<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, data] of map) out.set(name, { dtype: 'F32', shape: [...(shapes.get(name) ?? [data.length])], data });
  return out;
}

function fromHost(map: Map<string, HostTensor>, path: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of map) {
    if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${name}' is ${t.dtype}, expected F32`);
    out.set(name, t.data as Float32Array);
  }
  return out;
}

async function writeCheckpoint(session: TrainingSession, path: string, epoch: number, step: number, batchInEpoch: number, seed: number, info: Record<string, string | number>): Promise<void> {
  const state = await session.saveState();
  const optimizerShapes = new Map([...state.optimizer].map(([k, v]) => [k, [v.length]]));
  const checkpoint: Checkpoint = {
    weights: toHost(state.weights, session.weightShapes),
    optimizer: toHost(state.optimizer, optimizerShapes),
    position: { epoch, step, batchInEpoch, rng: Rng.seeded(seed, epoch).state() },
    info: { ...info, seed },
  };
  saveCheckpoint(path, checkpoint);
}

/** Loss and accuracy of a whole data set in inference mode. */
export async function evaluateDataset(session: TrainingSession, dataset: Dataset): Promise<{ loss: number; accuracy: number; confusion: number[][] }> {
  const classes = dataset.classes;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  let seen = 0;
  for (let start = 0; start < dataset.length; start += session.batchSize) {
    const count = Math.min(session.batchSize, dataset.length - start);
    // The compiled program has a fixed batch: pad the last batch by repeating its first example.
    const indices = Int32Array.from({ length: session.batchSize }, (_, i) => start + (i < count ? i : 0));
    const batch = { ...readBatch(dataset, indices), count };
    const { loss, probabilities } = await session.evaluate(batch);
    lossSum += loss * count;
    for (let i = 0; i < count; i++) {
      const row = probabilities.subarray(i * classes, (i + 1) * classes);
      let best = 0;
      for (let k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
      confusion[batch.labels[i]][best]++;
    }
    seen += count;
  }
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  return { loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen), confusion };
}

export async function fit(session: TrainingSession, train: Dataset, options: FitOptions): Promise<FitOutcome> {
  const batchesPerEpoch = Math.floor(train.length / session.batchSize);
  if (batchesPerEpoch === 0) throw new Error(`the training set has ${train.length} examples, fewer than one batch of ${session.batchSize}`);
  const makeBatch = options.makeBatch ?? ((ds, idx) => readBatch(ds, idx));
  const info = options.info ?? {};
  let startEpoch = 1;
  let startBatch = 0;
  let step = 0;
  if (options.resume) {
    const ckpt = loadCheckpoint(options.resume);
    await session.loadState({ weights: fromHost(ckpt.weights, options.resume), optimizer: fromHost(ckpt.optimizer, options.resume) });
    startEpoch = ckpt.position.epoch;
    startBatch = ckpt.position.batchInEpoch;
    step = ckpt.position.step;
    if (startBatch >= batchesPerEpoch) {
      startEpoch++;
      startBatch = 0;
    }
  }
  const reports: EpochReport[] = [];
  const runStart = performance.now();
  let imagesThisRun = 0;
  const totalBatches = (options.epochs - startEpoch + 1) * batchesPerEpoch - startBatch;

  for (let epoch = startEpoch; epoch <= options.epochs; epoch++) {
    const order = epochOrder(train.length, options.seed, epoch);
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let counted = 0;
    let hasAccuracy = true;
    const firstBatch = epoch === startEpoch ? startBatch : 0;
    for (let b = firstBatch; b < batchesPerEpoch; b++) {
      const indices = order.subarray(b * session.batchSize, (b + 1) * session.batchSize);
      const batch = await makeBatch(train, indices, epoch);
      const result = await session.trainStep(batch);
      step++;
      if (!Number.isFinite(result.loss)) {
        const kept = options.checkpoint && existsSync(options.checkpoint) ? `; the last good checkpoint ${options.checkpoint} is kept` : '';
        return { kind: 'diverged', message: `the loss became ${result.loss} at step ${step} (epoch ${epoch}, batch ${b + 1}); training stopped${kept}. Try a lower --lr.`, epochs: reports };
      }
      lossSum += result.loss * batch.count;
      counted += batch.count;
      if (result.correct === undefined) hasAccuracy = false;
      else correct += result.correct;
      imagesThisRun += batch.count;
      const elapsed = (performance.now() - runStart) / 1000;
      const done = imagesThisRun / session.batchSize;
      options.onProgress?.({
        epoch,
        epochs: options.epochs,
        batch: b + 1,
        batches: batchesPerEpoch,
        loss: lossSum / counted,
        ...(hasAccuracy ? { accuracy: correct / counted } : {}),
        imagesPerSecond: imagesThisRun / Math.max(elapsed, 1e-9),
        etaSeconds: (elapsed / done) * (totalBatches - done),
      });
      if (options.shouldStop?.() && b + 1 < batchesPerEpoch) {
        if (options.checkpoint) await writeCheckpoint(session, options.checkpoint, epoch, step, b + 1, options.seed, info);
        return { kind: 'interrupted', epoch, step };
      }
    }
    const seconds = (performance.now() - epochStart) / 1000;
    let report: EpochReport = {
      epoch,
      loss: lossSum / counted,
      ...(hasAccuracy ? { accuracy: correct / counted } : {}),
      seconds,
      imagesPerSecond: counted / seconds,
    };
    if (options.test) {
      const t = await evaluateDataset(session, options.test);
      report = { ...report, testLoss: t.loss, testAccuracy: t.accuracy };
    }
    reports.push(report);
    if (options.checkpoint) await writeCheckpoint(session, options.checkpoint, epoch + 1, step, 0, options.seed, info);
    options.onEpoch?.(report);
    if (options.shouldStop?.()) return { kind: 'interrupted', epoch: epoch + 1, step };
  }
  return { kind: 'done', epochs: reports };
}

