// Prepares batches on worker threads beside training (the course's "different CPU thread").
// A batch depends only on its BatchJob, so the pool's batches equal BatchLoader's for the same seed.

import { Worker } from 'node:worker_threads';
import { DataError, type Dataset } from './dataset.ts';
import { toSource } from './source.ts';
import { BatchPlanner, validatePipeline, type Batch, type BatchJob, type PipelineOptions, type StreamState } from './pipeline.ts';
import type { WorkerInit, WorkerJob, WorkerReply } from './batch-worker.ts';
import { workerEntry } from '../worker-entry.ts';

interface Pending {
  job: WorkerJob;
  resolve: (b: Batch) => void;
  reject: (e: Error) => void;
}

export class BatchWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(dataset: Dataset, options: PipelineOptions, threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new DataError(`worker threads must be a positive integer, got ${threads}`);
    validatePipeline(dataset, options);
    const entry = workerEntry(import.meta.url, 'batch-worker');
    const init: WorkerInit = { source: toSource(dataset), options };
    for (let i = 0; i < threads; i++) {
      const w = new Worker(entry.script, { workerData: init, eval: entry.eval });
      w.on('message', (reply: WorkerReply) => this.finish(w, reply));
      w.on('error', (e) => this.fail(new DataError(`batch worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new DataError(`batch worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Makes the batch for a job on some worker. */
  run(job: Pick<BatchJob, 'indices' | 'augmentSeed' | 'batchInEpoch'>): Promise<Batch> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new DataError('the batch worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, indices: job.indices, augmentSeed: job.augmentSeed, batchInEpoch: job.batchInEpoch }, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(w, p);
      w.postMessage(p.job);
    }
  }

  private finish(w: Worker, reply: WorkerReply): void {
    const p = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (p) {
      if ('error' in reply) p.reject(new DataError(reply.error));
      else p.resolve({ images: reply.images, labels: reply.labels, shape: reply.shape, indices: reply.indices });
    }
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of [...this.running.values(), ...this.queue]) p.reject(e);
    this.running.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fail(new DataError('the batch worker pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Batches prepared `depth` ahead on a worker pool, handed out in order. Same batches, same resumable state as
 * BatchLoader; `state()` reflects the batches handed out, not those still being prepared.
 */
export class PrefetchLoader {
  readonly planner: BatchPlanner;
  private readonly ahead: { job: BatchJob; batch: Promise<Batch> }[] = [];
  private consumed: StreamState;

  constructor(
    private readonly pool: BatchWorkerPool,
    readonly length: number,
    readonly options: PipelineOptions,
    state?: StreamState,
    readonly depth = 2 * pool.threads,
  ) {
    this.planner = new BatchPlanner(length, options, state);
    this.consumed = this.planner.state();
    this.fill();
  }

  private fill(): void {
    while (this.ahead.length < this.depth) {
      const job = this.planner.next();
      const batch = this.pool.run(job);
      batch.catch(() => undefined); // surfaced when this batch is taken
      this.ahead.push({ job, batch });
    }
  }

  async next(): Promise<Batch & { job: BatchJob }> {
    const { job, batch } = this.ahead.shift()!;
    this.fill();
    const b = await batch;
    this.consumed = job.after;
    return { ...b, job };
  }

  state(): StreamState {
    return this.consumed;
  }
}

/** Starts a pool and a prefetching loader over it; close() stops both. */
export function startPrefetch(
  dataset: Dataset,
  options: PipelineOptions,
  threads: number,
  state?: StreamState,
): { loader: PrefetchLoader; close: () => Promise<void> } {
  const pool = new BatchWorkerPool(dataset, options, threads);
  const loader = new PrefetchLoader(pool, dataset.length, options, state);
  return { loader, close: () => pool.close() };
}
