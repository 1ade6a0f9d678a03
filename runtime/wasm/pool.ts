// Kernel threads for the wasm back end, on any platform: every thread instantiates a program's
// module on the same shared WebAssembly.Memory, and a kernel is split into contiguous ranges of
// its units (examples, planes, elements), the calling thread taking the first. Jobs go through a
// shared control block (control.ts), so a dispatch costs a futex wake, not a message. Threads are
// Node worker threads (workers.ts) or a page's Web Workers (threads.ts); a page's main thread may
// not block, so there the caller spins on the control block while the others finish their parts.

import { CONTROL, CONTROL_INTS, partOf, type AttachMessage, type InitMessage, type WorkerReply } from './control.ts';

/** How long the main thread waits for the threads' parts of one kernel before giving up. */
const STALL_MS = 120_000;

/** One started thread, as the pool sees it (a Node Worker or a Web Worker, adapted). */
export interface KernelThread {
  postMessage(message: InitMessage | AttachMessage): void;
  /** Subscribes to the thread's replies, errors and (Node) exit; returns the unsubscribe. */
  listen(on: { message(r: WorkerReply): void; error(message: string): void; exit?(code: number): void }): () => void;
  terminate(): void;
}

/** Whether this runtime can share a WebAssembly.Memory between threads (a page: when cross-origin isolated). */
export function canShareMemory(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** A program attached to the pool: runs its exported functions split over its threads. */
export interface PoolSession {
  run(fn: string, units: number): void;
  detach(): void;
}

export interface PoolOptions {
  /** Whether the calling thread may `Atomics.wait` (not a page's main thread: it spins instead). */
  readonly blocking: boolean;
}

export class KernelPool {
  private readonly threads: KernelThread[] = [];
  private readonly control: Int32Array;
  /** Whether the threads wait on the control block (between an attach and a yield). */
  private serving = false;
  private closed = false;
  private nextId = 0;
  /** Attaches run one at a time: each needs every thread back in its event loop. */
  private attaching: Promise<unknown> = Promise.resolve();
  /** The last failure a thread reported, for the error the main thread throws. */
  private lastFailure = '';

  /** `size` threads in all, the calling one included; `start` starts one more. */
  constructor(readonly size: number, start: () => KernelThread, private readonly options: PoolOptions) {
    const shared = new SharedArrayBuffer(CONTROL_INTS * 4);
    this.control = new Int32Array(shared);
    for (let i = 1; i < size; i++) {
      const t = start();
      // A thread that stops is reported by the next job (STOPPED); an error event must not crash.
      t.listen({ message: (r) => r.kind === 'failed' && (this.lastFailure = r.error), error: (m) => (this.lastFailure = m) });
      t.postMessage({ kind: 'init', control: shared, index: i });
      this.threads.push(t);
    }
  }

  private failure(what: string): Error {
    return new Error(`${what}${this.lastFailure ? ` (${this.lastFailure})` : ''}; run with CNNC_THREADS=1 (a bundle: threads: 1)`);
  }

  /**
   * Posts a job to every thread and waits for all of them; the calling thread's part runs between.
   * Every part completes before this returns or throws, so the next job never overlaps this one.
   */
  private post(program: number, fn: number, units: number, parts: number, own: () => void): void {
    const c = this.control;
    if (Atomics.load(c, CONTROL.STOPPED) !== 0) throw this.failure('a wasm kernel thread has stopped');
    Atomics.store(c, CONTROL.PROGRAM, program);
    Atomics.store(c, CONTROL.FN, fn);
    Atomics.store(c, CONTROL.UNITS, units);
    Atomics.store(c, CONTROL.PARTS, parts);
    Atomics.store(c, CONTROL.PENDING, this.threads.length);
    Atomics.add(c, CONTROL.GEN, 1);
    Atomics.notify(c, CONTROL.GEN);
    let ownError: unknown;
    try {
      own();
    } catch (e) {
      ownError = e;
    }
    // A thread stuck in a kernel must not hang the process: fail after a long wait.
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      const left = Atomics.load(c, CONTROL.PENDING);
      if (left === 0) break;
      if (Atomics.load(c, CONTROL.STOPPED) !== 0) throw this.failure('a wasm kernel thread stopped during a kernel');
      const waited = this.options.blocking ? Atomics.wait(c, CONTROL.PENDING, left, 1000) : 'spun';
      if (waited !== 'ok' && performance.now() > deadline) throw this.failure(`a wasm kernel thread did not finish its part in ${STALL_MS / 1000} s`);
    }
    if (ownError !== undefined) throw ownError;
    if (Atomics.exchange(c, CONTROL.FAILED, 0) !== 0) throw new Error(`a wasm kernel failed on a kernel thread${this.lastFailure ? `: ${this.lastFailure}` : ''}`);
  }

  /** Instantiates the module on every thread (`threads` of them take part, the caller's included); attaches queue behind each other. */
  attach(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], scratchBase: number, scratchBytes: number, main: Record<string, (lo: number, hi: number, scratch: number) => void>, threads = this.size): Promise<PoolSession> {
    const next = this.attaching.then(() => this.attachNow({ kind: 'attach', id: this.nextId++, module, memory, names, scratchBase, scratchBytes }, main, Math.min(threads, this.size)));
    this.attaching = next.catch(() => undefined);
    return next;
  }

  private async attachNow(message: AttachMessage, main: Record<string, (lo: number, hi: number, scratch: number) => void>, threads: number): Promise<PoolSession> {
    if (this.closed) throw new Error('the wasm kernel thread pool is closed');
    if (this.serving) this.post(CONTROL.YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    await Promise.all(this.threads.map((t) => attachOne(t, message)));
    this.serving = true;
    const index = new Map(message.names.map((n, i) => [n, i]));
    let attached = true;
    return {
      run: (fn: string, units: number): void => {
        const parts = Math.min(threads, units);
        const f = main[fn]!;
        this.post(message.id, index.get(fn)!, units, parts, () => {
          const [lo, hi] = partOf(units, parts, 0);
          f(lo, hi, message.scratchBase);
        });
      },
      // The threads drop their instance (and with it their hold on the program's memory).
      detach: (): void => {
        if (!attached || this.closed) return;
        attached = false;
        this.post(message.id, CONTROL.DETACH, 0, 0, () => undefined);
      },
    };
  }

  close(): void {
    if (this.closed) return;
    if (this.serving && Atomics.load(this.control, CONTROL.STOPPED) === 0) this.post(CONTROL.YIELD, 0, 0, 0, () => undefined);
    this.serving = false;
    this.closed = true;
    for (const t of this.threads) t.terminate();
  }
}

/** Sends the attach message to one thread and waits for its answer naming this program. */
function attachOne(t: KernelThread, message: AttachMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = t.listen({
      message: (r) => {
        if (r.kind !== 'attached' || r.id !== message.id) return;
        stop();
        resolve();
      },
      error: (m) => {
        stop();
        reject(new Error(`a wasm kernel thread failed while attaching a program: ${m}`));
      },
      exit: (code) => {
        stop();
        reject(new Error(`a wasm kernel thread exited (code ${code}) while attaching a program`));
      },
    });
    t.postMessage(message);
  });
}
