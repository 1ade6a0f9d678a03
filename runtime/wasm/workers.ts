// Kernel threads in Node (what `--backend wasm` splits its kernels over): a KernelPool of
// worker_threads, and how many threads to use.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { KernelPool } from './pool.ts';
import { nodeKernelThread, threadsFromEnv } from './threads.ts';

export type { PoolSession } from './pool.ts';

/** Threads for the wasm back end: CNNC_THREADS, else every core. */
export function defaultThreads(): number {
  return threadsFromEnv() ?? availableParallelism();
}

/** `size` threads in all, the calling one included. */
export class WorkerPool extends KernelPool {
  constructor(size: number) {
    super(size, () => nodeKernelThread(Worker), { blocking: true });
  }
}
