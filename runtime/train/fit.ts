// The training loop: batches from a resumable loader, a checkpoint after each epoch (written
// atomically), exact resume (same next batch, same optimizer state), Ctrl-C saves and stops, and a
// non-finite loss stops with the step named and the last good checkpoint kept.

import { existsSync } from 'node:fs';
import { saveCheckpoint } from '../checkpoint.ts';
import type { Dataset } from '../data/dataset.ts';
import { evalBatches, type Batch, type BatchJob, type PipelineOptions, type StreamState } from '../data/pipeline.ts';
import type { HostTensor } from '../tensor.ts';
import { argmax } from './argmax.ts';
import type { ProgressState } from './progress.ts';
import type { SessionState, StepResult, TrainingSession } from './session.ts';

/** How evaluation prepares images (fit, normalise); the batch is the session's. */
export type EvalPipeline = Omit<PipelineOptions, 'shuffle' | 'augment' | 'dropLast' | 'seed' | 'batchSize'>;

/** A BatchLoader or a PrefetchLoader (runtime/data). */
export interface BatchSource {
  next(): (Batch & { job: BatchJob }) | Promise<Batch & { job: BatchJob }>;
  state(): StreamState;
  readonly planner: { readonly batchesPerEpoch: number };
}

export interface FitOptions {
  readonly epochs: number;
  /** Optimizer steps already taken (when resuming). */
  readonly step?: number;
  /** Checkpoint written after each epoch and on Ctrl-C. */
  readonly checkpoint?: string;
  /** Also write the checkpoint after every this many steps (mid-epoch; resume continues exactly). */
  readonly saveEvery?: number;
  readonly test?: { readonly dataset: Dataset; readonly pipeline: EvalPipeline };
  readonly onProgress?: (p: ProgressState) => void;
  readonly onEpoch?: (e: EpochReport) => void;
  /** Set by the caller (SIGINT): the loop saves and returns after the current step. */
  readonly shouldStop?: () => boolean;
  /** Extra fields for the checkpoint's info (model name, optimizer settings). */
  readonly info?: Record<string, string | number>;
}

export interface EpochReport {
  /** 1-based, as printed. */
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export type FitOutcome =
  | { readonly kind: 'done'; readonly epochs: readonly EpochReport[]; readonly step: number }
  | { readonly kind: 'interrupted'; readonly epochs: readonly EpochReport[]; readonly step: number }
  | { readonly kind: 'diverged'; readonly message: string; readonly epochs: readonly EpochReport[]; readonly step: number };

function toHost(map: Map<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, data] of map) out.set(name, { dtype: 'F32', shape: [...(shapes.get(name) ?? [data.length])], data });
  return out;
}

/** Checkpoint tensors back to session state, checking dtypes. */
export function sessionStateFrom(weights: Map<string, HostTensor>, optimizer: Map<string, HostTensor>, source: string): SessionState {
  const convert = (map: Map<string, HostTensor>) => {
    const out = new Map<string, Float32Array>();
    for (const [name, t] of map) {
      if (t.dtype !== 'F32') throw new Error(`${source}: tensor '${name}' is ${t.dtype}, expected F32`);
      out.set(name, t.data as Float32Array);
    }
    return out;
  };
  return { weights: convert(weights), optimizer: convert(optimizer) };
}

export async function writeTrainingCheckpoint(session: TrainingSession, path: string, position: StreamState, step: number, info: Record<string, string | number>): Promise<void> {
  const state = await session.saveState();
  saveCheckpoint(path, {
    weights: toHost(state.weights, session.shapes),
    optimizer: toHost(state.optimizer, session.shapes),
    position: { ...position, step },
    info,
  });
}

/** Loss, accuracy and confusion matrix of a whole data set in inference mode. */
export async function evaluateDataset(
  session: TrainingSession,
  dataset: Dataset,
  pipeline: EvalPipeline,
): Promise<{ loss: number; accuracy: number; confusion: number[][] }> {
  const classes = dataset.classes;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  let seen = 0;
  for (const batch of evalBatches(dataset, { ...pipeline, batchSize: session.batchSize })) {
    const count = batch.labels.length;
    const { loss, probabilities } = await session.evaluate(batch.images, batch.labels, count);
    lossSum += loss * count;
    for (let i = 0; i < count; i++) {
      confusion[batch.labels[i]][argmax(probabilities.subarray(i * classes, (i + 1) * classes))]++;
    }
    seen += count;
  }
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  return { loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen), confusion };
}

interface InFlight {
  readonly job: BatchJob;
  readonly count: number;
  readonly result: Promise<StepResult>;
}

/**
 * Steps are pipelined one deep: step k+1 is submitted before step k's loss is read back, so a
 * device never idles waiting for the host. A step is never submitted past the end of an epoch or
 * after a stop request, so checkpoints always hold the weights of the position they record.
 */
export async function fit(session: TrainingSession, loader: BatchSource, options: FitOptions): Promise<FitOutcome> {
  const batchesPerEpoch = loader.planner.batchesPerEpoch;
  const info = options.info ?? {};
  const reports: EpochReport[] = [];
  let step = options.step ?? 0;
  const start = loader.state();
  const startEpoch = start.batchInEpoch >= batchesPerEpoch ? start.epoch + 1 : start.epoch;
  const totalBatches = (options.epochs - startEpoch) * batchesPerEpoch - (start.epoch === startEpoch ? start.batchInEpoch : 0);
  const runStart = performance.now();
  let batchesThisRun = 0;
  let imagesThisRun = 0;
  let epochStart = performance.now();
  let lossSum = 0;
  let correct = 0;
  let counted = 0;
  let hasAccuracy = true;

  const isSavePoint = (steps: number): boolean => options.saveEvery !== undefined && steps % options.saveEvery === 0;

  const submitNext = async (): Promise<InFlight | undefined> => {
    const position = loader.state();
    const nextEpoch = position.batchInEpoch >= batchesPerEpoch ? position.epoch + 1 : position.epoch;
    if (nextEpoch >= options.epochs) return undefined;
    const batch = await loader.next();
    if (batch.job.batchInEpoch === 0 || batchesThisRun === 0) epochStart = performance.now();
    return { job: batch.job, count: batch.labels.length, result: session.trainStep(batch.images, batch.labels) };
  };

  /** Takes a finished step's result: statistics, progress, epoch end; an outcome when training must stop. */
  const settle = async ({ job, count, result: pending }: InFlight): Promise<FitOutcome | undefined> => {
    const result = await pending;
    step++;
    // A CPU step resolves without reaching the event loop; yield so signals (Ctrl-C) are seen.
    await new Promise((resolve) => setImmediate(resolve));
    if (!Number.isFinite(result.loss)) {
      const kept = options.checkpoint && existsSync(options.checkpoint) ? `; the last good checkpoint, ${options.checkpoint}, is kept` : '';
      return {
        kind: 'diverged',
        message: `the loss became ${result.loss} at step ${step} (epoch ${job.epoch + 1}, batch ${job.batchInEpoch + 1}); training stopped${kept}. Try a lower --lr.`,
        epochs: reports,
        step,
      };
    }
    if (job.batchInEpoch === 0 || batchesThisRun === 0) {
      lossSum = correct = counted = 0;
      hasAccuracy = true;
    }
    lossSum += result.loss * count;
    counted += count;
    if (result.correct === undefined) hasAccuracy = false;
    else correct += result.correct;
    batchesThisRun++;
    imagesThisRun += count;
    const elapsed = (performance.now() - runStart) / 1000;
    options.onProgress?.({
      epoch: job.epoch + 1,
      epochs: options.epochs,
      batch: job.batchInEpoch + 1,
      batches: batchesPerEpoch,
      loss: lossSum / counted,
      ...(hasAccuracy ? { accuracy: correct / counted } : {}),
      imagesPerSecond: imagesThisRun / Math.max(elapsed, 1e-9),
      etaSeconds: (elapsed / batchesThisRun) * (totalBatches - batchesThisRun),
    });
    // Nothing ran ahead of a save point (see the loop), so the weights are those of `job.after`.
    if (options.checkpoint && isSavePoint(step) && !job.lastInEpoch) await writeTrainingCheckpoint(session, options.checkpoint, job.after, step, info);
    if (job.lastInEpoch) {
      const seconds = (performance.now() - epochStart) / 1000;
      let report: EpochReport = {
        epoch: job.epoch + 1,
        loss: lossSum / counted,
        ...(hasAccuracy ? { accuracy: correct / counted } : {}),
        seconds,
        imagesPerSecond: counted / seconds,
      };
      if (options.test) {
        const t = await evaluateDataset(session, options.test.dataset, options.test.pipeline);
        report = { ...report, testLoss: t.loss, testAccuracy: t.accuracy };
      }
      reports.push(report);
      if (options.checkpoint) await writeTrainingCheckpoint(session, options.checkpoint, job.after, step, info);
      options.onEpoch?.(report);
    }
    return undefined;
  };

  let pending: InFlight | undefined;
  for (;;) {
    // The step in flight is `step + 1`: when a checkpoint follows it, the next step waits.
    const mayRunAhead = pending === undefined || (!pending.job.lastInEpoch && !isSavePoint(step + 1) && !options.shouldStop?.());
    const next = mayRunAhead ? await submitNext() : undefined;
    if (pending) {
      const outcome = await settle(pending);
      if (outcome) {
        await next?.result.catch(() => undefined);
        return outcome;
      }
    } else if (!next) {
      break;
    }
    if (options.shouldStop?.()) {
      // Finish the step already in flight, then save the position after it.
      let last = pending;
      if (next) {
        const outcome = await settle(next);
        if (outcome) return outcome;
        last = next;
      }
      if (options.checkpoint && last && !last.job.lastInEpoch) await writeTrainingCheckpoint(session, options.checkpoint, last.job.after, step, info);
      return { kind: 'interrupted', epochs: reports, step };
    }
    pending = next;
  }
  return { kind: 'done', epochs: reports, step };
}
