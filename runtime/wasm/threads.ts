// Starting kernel threads where the code runs, from browser-safe code (a bundle's runtime): Node
// worker threads (node:worker_threads loaded only in Node, through nodeImport) or
// a page's Web Workers. Threads need a memory that can be shared: in a page, only when it is
// cross-origin isolated; elsewhere one thread, and the reason is said.

import { canShareMemory, KernelPool, type KernelThread } from './pool.ts';
import { threadSource } from './kernel-thread.ts';
import type { WorkerReply } from './control.ts';
import { nodeImport } from '../node-import.ts';
// Types only: erased, so a page never loads node:worker_threads.
import type { Worker as NodeWorker } from 'node:worker_threads';

export type NodeWorkerClass = typeof NodeWorker;

/** A kernel thread in a Node worker thread. */
export function nodeKernelThread(Worker: NodeWorkerClass): KernelThread {
  const w = new Worker(threadSource('node'), { eval: true });
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    listen(on) {
      const message = (r: WorkerReply): void => on.message(r);
      const error = (e: Error): void => on.error(e.message);
      const exit = (code: number): void => on.exit?.(code);
      w.on('message', message);
      w.on('error', error);
      w.on('exit', exit);
      return () => {
        w.off('message', message);
        w.off('error', error);
        w.off('exit', exit);
      };
    },
    terminate: () => void w.terminate(),
  };
}

/** A kernel thread in a page's Web Worker, started from a Blob URL of its source. */
function webKernelThread(url: string): KernelThread {
  const w = new Worker(url);
  return {
    postMessage: (m) => w.postMessage(m),
    listen(on) {
      const message = (e: MessageEvent<WorkerReply>): void => on.message(e.data);
      const error = (e: ErrorEvent): void => on.error(e.message);
      w.addEventListener('message', message);
      w.addEventListener('error', error);
      return () => {
        w.removeEventListener('message', message);
        w.removeEventListener('error', error);
      };
    },
    terminate: () => w.terminate(),
  };
}

export const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** CNNC_THREADS in Node, when it is a thread count. */
export function threadsFromEnv(): number | undefined {
  if (!isNode()) return undefined;
  const env = Number(process.env.CNNC_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : undefined;
}

/** Threads the platform offers: Node's available parallelism (or CNNC_THREADS), a page's hardwareConcurrency. */
async function platformThreads(): Promise<number> {
  if (isNode()) {
    const env = threadsFromEnv();
    if (env !== undefined) return env;
    return (await nodeImport<typeof import('node:os')>('node:os')).availableParallelism();
  }
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}

export interface ThreadChoice {
  /** Undefined for one thread. */
  readonly pool?: KernelPool;
  readonly threads: number;
  /** Why it runs on one thread when more were possible or asked for. */
  readonly note?: string;
}

/**
 * A pool of `wanted` threads (default: every core), at most `max`, where memory can be shared;
 * else one thread and why.
 */
export async function openKernelThreads(wanted?: number, max = Infinity): Promise<ThreadChoice> {
  const threads = Math.min(wanted ?? (await platformThreads()), max);
  if (threads <= 1) return { threads: 1 };
  if (!canShareMemory()) {
    return { threads: 1, note: isNode() ? 'no shared WebAssembly memory here for threads' : 'the page is not cross-origin isolated, so no SharedArrayBuffer for threads' };
  }
  if (isNode()) {
    const { Worker } = await nodeImport<typeof import('node:worker_threads')>('node:worker_threads');
    return { threads, pool: new KernelPool(threads, () => nodeKernelThread(Worker), { blocking: true }) };
  }
  const url = URL.createObjectURL(new Blob([threadSource('web')], { type: 'text/javascript' }));
  return { threads, pool: new KernelPool(threads, () => webKernelThread(url), { blocking: false }) };
}
