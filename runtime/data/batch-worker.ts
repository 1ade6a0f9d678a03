// Worker thread body for BatchWorkerPool: rebuilds the data set once, then makes batches on request.

import { parentPort, workerData } from 'node:worker_threads';
import { fromSource, type DatasetSource } from './source.ts';
import { makeBatch, type PipelineOptions } from './pipeline.ts';

export interface WorkerInit {
  source: DatasetSource;
  options: PipelineOptions;
}

export interface WorkerJob {
  id: number;
  indices: Int32Array;
  augmentSeed: number;
  batchInEpoch: number;
}

export type WorkerReply =
  | { id: number; images: Float32Array; labels: Int32Array; shape: [number, number, number, number]; indices: Int32Array }
  | { id: number; error: string };

const init = workerData as WorkerInit;
const dataset = fromSource(init.source);
const port = parentPort!;

port.on('message', (job: WorkerJob) => {
  try {
    const b = makeBatch(dataset, job, init.options);
    const reply: WorkerReply = { id: job.id, ...b };
    port.postMessage(reply, [b.images.buffer as ArrayBuffer, b.labels.buffer as ArrayBuffer]);
  } catch (e) {
    const reply: WorkerReply = { id: job.id, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  }
});
