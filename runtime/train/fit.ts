// The training loop over named feeds: batches of fields from a resumable loader, bound to the
// model's inputs and targets, a checkpoint after each epoch (written
// atomically), exact resume (same next batch, same optimizer state), Ctrl-C saves and stops, and a
// non-finite loss stops with the step named and the last good checkpoint kept.

import { existsSync } from 'node:fs';
import { saveCheckpoint, type Json } from '../checkpoint.ts';
import type { BatchJob, StreamState } from '../data/pipeline.ts';
import { evalRecordBatches, type RecordBatchSource, type Records } from '../data/records.ts';
import type { HostTensor } from '../tensor.ts';
import { feedsOf, type FeedBinding } from './bind-feeds.ts';
import type { Tally } from './metrics.ts';
import { progressDetails, type ProgressState } from './progress.ts';
import type { EvalResult, SessionState, StepResult, TrainingSession } from './session.ts';

export interface FitOptions {
  readonly epochs: number;
  /** How the model's feeds read the loader's fields (bind-feeds.ts). */
  readonly bindings: readonly FeedBinding[];
  /** Optimizer steps already taken (when resuming). */
  readonly step?: number;
  /** Checkpoint written after each epoch and on Ctrl-C. */
  readonly checkpoint?: string;
  /** Also write the checkpoint after every this many steps (mid-epoch; resume continues exactly). */
  readonly saveEvery?: number;
  /** Held-out records, evaluated after each epoch with the same bindings. */
  readonly test?: Records;
  readonly onProgress?: (p: ProgressState) => void;
  readonly onEpoch?: (e: EpochReport) => void;
  /** Set by the caller (SIGINT): the loop saves and returns after the current step. */
  readonly shouldStop?: () => boolean;
  /** Extra fields for the checkpoint's info (model name, optimizer settings). */
  readonly info?: Record<string, Json>;
}

/** Loss, each term and each metric (in the session's order) averaged over examples. */
export interface Measured {
  readonly loss: number;
  readonly terms: readonly number[];
  readonly metrics: readonly number[];
}

export interface EpochReport extends Measured {
  /** 1-based, as printed. */
  readonly epoch: number;
  readonly test?: Measured;
  readonly seconds: number;
  readonly examplesPerSecond: number;
}

export type FitOutcome =
  | { readonly kind: 'done'; readonly epochs: readonly EpochReport[]; readonly step: number }
  | { readonly kind: 'interrupted'; readonly epochs: readonly EpochReport[]; readonly step: number }
  | { readonly kind: 'diverged'; readonly message: string; readonly epochs: readonly EpochReport[]; readonly step: number };

/** Running sums of a loss, its terms and metrics over examples. */
export class Accumulator {
  private loss = 0;
  private examples = 0;
  private terms: number[];
  private tallies: Tally[];
  constructor(private readonly session: Pick<TrainingSession, 'terms' | 'metrics'>) {
    this.terms = session.terms.map(() => 0);
    this.tallies = session.metrics.map(() => ({ sum: 0, count: 0 }));
  }
  add(r: StepResult, count: number): void {
    this.loss += r.loss * count;
    this.examples += count;
    r.terms.forEach((t, i) => (this.terms[i]! += t * count));
    r.tallies.forEach((t, i) => {
      this.tallies[i]!.sum += t.sum;
      this.tallies[i]!.count += t.count;
    });
  }
  get count(): number {
    return this.examples;
  }
  value(): Measured {
    const n = Math.max(1, this.examples);
    return { loss: this.loss / n, terms: this.terms.map((t) => t / n), metrics: this.tallies.map((t) => t.sum / Math.max(1, t.count)) };
  }
}

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

export async function writeTrainingCheckpoint(session: TrainingSession, path: string, position: StreamState, step: number, info: Record<string, Json>): Promise<void> {
  const state = await session.saveState();
  saveCheckpoint(path, {
    weights: toHost(state.weights, session.shapes),
    optimizer: toHost(state.optimizer, session.shapes),
    position: { ...position, step },
    info,
  });
}

/**
 * Loss, terms and metrics of every example of `records` in inference mode; `onBatch` sees each
 * batch's result and feeds (a confusion matrix, predictions).
 */
export async function evaluateRecords(
  session: TrainingSession,
  records: Records,
  bindings: readonly FeedBinding[],
  onBatch?: (result: EvalResult, feeds: ReadonlyMap<string, Float32Array>, count: number) => void,
): Promise<Measured> {
  const acc = new Accumulator(session);
  for (const batch of evalRecordBatches(records, session.batchSize)) {
    const feeds = feedsOf(bindings, batch);
    const result = await session.evaluate(feeds, batch.count);
    acc.add(result, batch.count);
    onBatch?.(result, feeds, batch.count);
  }
  return acc.value();
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
export async function fit(session: TrainingSession, loader: RecordBatchSource, options: FitOptions): Promise<FitOutcome> {
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
  let epoch = new Accumulator(session);

  const isSavePoint = (steps: number): boolean => options.saveEvery !== undefined && steps % options.saveEvery === 0;

  const submitNext = async (): Promise<InFlight | undefined> => {
    const position = loader.state();
    const nextEpoch = position.batchInEpoch >= batchesPerEpoch ? position.epoch + 1 : position.epoch;
    if (nextEpoch >= options.epochs) return undefined;
    const batch = await loader.next();
    if (batch.job.batchInEpoch === 0 || batchesThisRun === 0) epochStart = performance.now();
    return { job: batch.job, count: batch.count, result: session.trainStep(feedsOf(options.bindings, batch)) };
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
    if (job.batchInEpoch === 0 || batchesThisRun === 0) epoch = new Accumulator(session);
    epoch.add(result, count);
    batchesThisRun++;
    imagesThisRun += count;
    const elapsed = (performance.now() - runStart) / 1000;
    const running = epoch.value();
    options.onProgress?.({
      epoch: job.epoch + 1,
      epochs: options.epochs,
      batch: job.batchInEpoch + 1,
      batches: batchesPerEpoch,
      loss: running.loss,
      details: progressDetails(session, running),
      imagesPerSecond: imagesThisRun / Math.max(elapsed, 1e-9),
      etaSeconds: (elapsed / batchesThisRun) * (totalBatches - batchesThisRun),
    });
    // Nothing ran ahead of a save point (see the loop), so the weights are those of `job.after`.
    if (options.checkpoint && isSavePoint(step) && !job.lastInEpoch) await writeTrainingCheckpoint(session, options.checkpoint, job.after, step, info);
    if (job.lastInEpoch) {
      const seconds = (performance.now() - epochStart) / 1000;
      const test = options.test ? await evaluateRecords(session, options.test, options.bindings) : undefined;
      const report: EpochReport = { epoch: job.epoch + 1, ...running, ...(test ? { test } : {}), seconds, examplesPerSecond: epoch.count / seconds };
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
