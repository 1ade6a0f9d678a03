// Worker threads for the wasm back end: every worker instantiates a program's module on the same
// shared WebAssembly.Memory, and a kernel is split into contiguous ranges of its units (examples,
// planes, elements), the main thread taking the first. Jobs go through a shared control block
// (control.ts), so a dispatch costs a futex wake, not a message.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { CONTROL_INTS, FAILED, FN, GEN, PARTS, partOf, PENDING, PROGRAM, UNITS, YIELD, type AttachMessage, type WorkerInit } from './control.ts';
import { workerEntry } from '../worker-entry.ts';

/** How long the main thread waits for the workers' parts of one kernel before giving up. */
const STALL_MS = 120_000;

/** Whether this runtime can share a WebAssembly.Memory between threads. */
export function canShareMemory(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Threads for the wasm back end: CNNC_THREADS, else every core. */
export function defaultThreads(): number {
  const env = Number(process.env.CNNC_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : availableParallelism();
}

/** A program attached to the pool: runs its exported functions split over every thread. */
export interface PoolSession {
  run(fn: string, units: number): void;
  detach(): void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private serving = false;
  private nextId = 0;

  /** `size` threads in all, the calling one included. */
  constructor(readonly size: number) {
    const shared = new SharedArrayBuffer(CONTROL_INTS * 4);
    this.control = new Int32Array(shared);
    const entry = workerEntry(import.meta.url, 'kernel-worker');
    for (let i = 1; i < size; i++) {
      const init: WorkerInit = { control: shared, index: i };
      const w = new Worker(entry.script, { eval: entry.eval, workerData: init });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Posts a job to every worker and waits for all of them (the main thread's part runs between). */
  private post(program: number, fn: number, units: number, parts: number, own: () => void): void {
    const c = this.control;
    Atomics.store(c, PROGRAM, program);
    Atomics.store(c, FN, fn);
    Atomics.store(c, UNITS, units);
    Atomics.store(c, PARTS, parts);
    Atomics.store(c, PENDING, this.workers.length);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    own();
    // A worker that never answers (it died) must not hang the process: fail after a long wait.
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      const left = Atomics.load(c, PENDING);
      if (left === 0) break;
      if (Atomics.wait(c, PENDING, left, 1000) === 'timed-out' && performance.now() > deadline) {
        throw new Error(`a wasm worker thread did not finish its part in ${STALL_MS / 1000} s; run with CNNC_THREADS=1`);
      }
    }
    if (Atomics.exchange(c, FAILED, 0) !== 0) throw new Error('a wasm kernel failed on a worker thread');
  }

  async attach(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], scratchBase: number, scratchBytes: number, main: Record<string, (lo: number, hi: number, scratch: number) => void>): Promise<PoolSession> {
    if (this.serving) this.post(YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    const id = this.nextId++;
    const message: AttachMessage = { kind: 'attach', id, module, memory, names, scratchBase, scratchBytes };
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const fail = (e: Error): void => reject(e);
            w.once('error', fail);
            w.once('message', () => {
              w.off('error', fail);
              resolve();
            });
            w.postMessage(message);
          }),
      ),
    );
    this.serving = true;
    const index = new Map(names.map((n, i) => [n, i]));
    return {
      run: (fn: string, units: number): void => {
        const parts = Math.min(this.size, units);
        const f = main[fn]!;
        this.post(id, index.get(fn)!, units, parts, () => {
          const [lo, hi] = partOf(units, parts, 0);
          f(lo, hi, scratchBase);
        });
      },
      detach: () => undefined,
    };
  }

  close(): void {
    if (this.serving) this.post(YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    for (const w of this.workers) void w.terminate();
  }
}
