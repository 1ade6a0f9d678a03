// Worker threads for the wasm back end: every worker instantiates a program's module on the same
// shared WebAssembly.Memory, and a kernel is split into contiguous ranges of its units (examples,
// planes, elements), the main thread taking the first. Jobs go through a shared control block
// (control.ts), so a dispatch costs a futex wake, not a message.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { CONTROL_INTS, DETACH, FAILED, FN, GEN, PARTS, partOf, PENDING, PROGRAM, STOPPED, UNITS, YIELD, type AttachMessage, type WorkerInit, type WorkerReply } from './control.ts';
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
  /** Whether the workers wait on the control block (between an attach and a yield). */
  private serving = false;
  private closed = false;
  private nextId = 0;
  /** Attaches run one at a time: each needs every worker back in its event loop. */
  private attaching: Promise<unknown> = Promise.resolve();
  /** The last failure a worker reported, for the error the main thread throws. */
  private lastFailure = '';

  /** `size` threads in all, the calling one included. */
  constructor(readonly size: number) {
    const shared = new SharedArrayBuffer(CONTROL_INTS * 4);
    this.control = new Int32Array(shared);
    const entry = workerEntry(import.meta.url, 'kernel-worker');
    for (let i = 1; i < size; i++) {
      const init: WorkerInit = { control: shared, index: i };
      const w = new Worker(entry.script, { eval: entry.eval, workerData: init });
      w.unref();
      w.on('message', (r: WorkerReply) => {
        if (r.kind === 'failed') this.lastFailure = r.error;
      });
      // A worker that stops is reported by the next job (STOPPED); an error event must not crash.
      w.on('error', (e: Error) => (this.lastFailure = e.message));
      this.workers.push(w);
    }
  }

  /**
   * Posts a job to every worker and waits for all of them; the main thread's part runs between.
   * Every part completes before this returns or throws, so the next job never overlaps this one.
   */
  private post(program: number, fn: number, units: number, parts: number, own: () => void): void {
    const c = this.control;
    if (Atomics.load(c, STOPPED) !== 0) throw new Error(`a wasm worker thread has stopped${this.lastFailure ? ` (${this.lastFailure})` : ''}; run with CNNC_THREADS=1`);
    Atomics.store(c, PROGRAM, program);
    Atomics.store(c, FN, fn);
    Atomics.store(c, UNITS, units);
    Atomics.store(c, PARTS, parts);
    Atomics.store(c, PENDING, this.workers.length);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let ownError: unknown;
    try {
      own();
    } catch (e) {
      ownError = e;
    }
    // A worker stuck in a kernel must not hang the process: fail after a long wait.
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      const left = Atomics.load(c, PENDING);
      if (left === 0) break;
      if (Atomics.load(c, STOPPED) !== 0) throw new Error(`a wasm worker thread stopped during a kernel${this.lastFailure ? ` (${this.lastFailure})` : ''}; run with CNNC_THREADS=1`);
      if (Atomics.wait(c, PENDING, left, 1000) === 'timed-out' && performance.now() > deadline) {
        throw new Error(`a wasm worker thread did not finish its part in ${STALL_MS / 1000} s; run with CNNC_THREADS=1`);
      }
    }
    if (ownError !== undefined) throw ownError;
    if (Atomics.exchange(c, FAILED, 0) !== 0) throw new Error(`a wasm kernel failed on a worker thread${this.lastFailure ? `: ${this.lastFailure}` : ''}`);
  }

  /** Instantiates the module on every worker; attaches queue behind each other. */
  attach(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], scratchBase: number, scratchBytes: number, main: Record<string, (lo: number, hi: number, scratch: number) => void>): Promise<PoolSession> {
    const next = this.attaching.then(() => this.attachNow(module, memory, names, scratchBase, scratchBytes, main));
    this.attaching = next.catch(() => undefined);
    return next;
  }

  private async attachNow(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], scratchBase: number, scratchBytes: number, main: Record<string, (lo: number, hi: number, scratch: number) => void>): Promise<PoolSession> {
    if (this.closed) throw new Error('the wasm worker pool is closed');
    if (this.serving) this.post(YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    const id = this.nextId++;
    const message: AttachMessage = { kind: 'attach', id, module, memory, names, scratchBase, scratchBytes };
    await Promise.all(this.workers.map((w) => attachOne(w, message)));
    this.serving = true;
    const index = new Map(names.map((n, i) => [n, i]));
    let attached = true;
    return {
      run: (fn: string, units: number): void => {
        const parts = Math.min(this.size, units);
        const f = main[fn]!;
        this.post(id, index.get(fn)!, units, parts, () => {
          const [lo, hi] = partOf(units, parts, 0);
          f(lo, hi, scratchBase);
        });
      },
      // The workers drop their instance (and with it their hold on the program's memory).
      detach: (): void => {
        if (!attached || this.closed) return;
        attached = false;
        this.post(id, DETACH, 0, 0, () => undefined);
      },
    };
  }

  close(): void {
    if (this.closed) return;
    if (this.serving && Atomics.load(this.control, STOPPED) === 0) this.post(YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    this.closed = true;
    for (const w of this.workers) void w.terminate();
  }
}

/** Sends the attach message to one worker and waits for its answer naming this program. */
function attachOne(w: Worker, message: AttachMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      w.off('message', onReply);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    const onReply = (r: WorkerReply): void => {
      if (r.kind !== 'attached' || r.id !== message.id) return;
      done();
      resolve();
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    const onExit = (code: number): void => {
      done();
      reject(new Error(`a wasm worker thread exited (code ${code}) while attaching a program`));
    };
    w.on('message', onReply);
    w.on('error', onError);
    w.on('exit', onExit);
    w.postMessage(message);
  });
}
