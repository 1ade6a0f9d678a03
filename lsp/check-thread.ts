// Runs the language server's checks on a thread of their own (check-worker.ts), so the server's
// thread stays free: it answers requests while a check runs, and the next edit cancels a running
// check at once. The checker polls a shared flag; a check stuck where it does not poll (parsing a
// file of thousands of broken lines takes seconds) has its thread ended and replaced instead.

import { Worker } from 'node:worker_threads';
import { workerEntry } from '../runtime/worker-entry.ts';
import type { CheckResult } from './analysis.ts';
import type { CheckJob, CheckReply } from './check-worker.ts';

export type CheckRequest = Omit<CheckJob, 'id' | 'cancel'>;

export interface RunningCheck {
  /** What the check found, or undefined once cancelled. Rejects if the checker itself failed. */
  readonly result: Promise<CheckResult | undefined>;
  cancel(): void;
}

/** How long a cancelled check may take to notice before its thread is replaced. */
export const CANCEL_GRACE_MS = 200;

interface Pending {
  readonly job: CheckJob;
  readonly resolve: (r: CheckResult | undefined) => void;
  readonly reject: (e: Error) => void;
}

const isCancelled = (job: CheckJob) => Atomics.load(new Int32Array(job.cancel), 0) !== 0;

export class CheckThread {
  private worker: Worker | undefined;
  /** In the order posted, which is the order the thread runs them: the first is running. */
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private watchdog: NodeJS.Timeout | undefined;

  /** Queues a check behind the running one (cancel that one first to start this one at once). */
  start(request: CheckRequest): RunningCheck {
    const job: CheckJob = { ...request, id: this.nextId++, cancel: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT) };
    const result = new Promise<CheckResult | undefined>((resolve, reject) => {
      this.pending.set(job.id, { job, resolve, reject });
      this.thread().postMessage(job);
    });
    return { result, cancel: () => this.cancel(job) };
  }

  close(): Promise<number> | undefined {
    clearTimeout(this.watchdog);
    const w = this.worker;
    this.worker = undefined;
    return w?.terminate();
  }

  private cancel(job: CheckJob): void {
    Atomics.store(new Int32Array(job.cancel), 0, 1);
    if (this.pending.keys().next().value === job.id && this.watchdog === undefined) {
      this.watchdog = setTimeout(() => this.replaceStuckThread(job.id), CANCEL_GRACE_MS);
      this.watchdog.unref();
    }
  }

  /** The cancelled check `id` is still running: end its thread, and run the checks queued behind it on a new one. */
  private replaceStuckThread(id: number): void {
    this.watchdog = undefined;
    if (this.pending.keys().next().value !== id || !this.worker) return;
    const stuck = this.worker;
    this.worker = undefined;
    void stuck.terminate();
    for (const [key, p] of [...this.pending]) {
      if (!isCancelled(p.job)) continue;
      this.pending.delete(key);
      p.resolve(undefined);
    }
    for (const p of this.pending.values()) this.thread().postMessage(p.job);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry(import.meta.url, 'check-worker');
    const w = new Worker(entry.script, { eval: entry.eval });
    // The server's process ends with its connection, whatever the thread is doing.
    w.unref();
    w.on('message', (reply: CheckReply) => this.finish(reply));
    w.on('error', (e) => this.lost(w, `the checking thread failed: ${e.message}`));
    w.on('exit', (code) => this.lost(w, `the checking thread exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private finish(reply: CheckReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    if (reply.outcome === 'done') p.resolve(reply.result);
    else if (reply.outcome === 'cancelled') p.resolve(undefined);
    else p.reject(new Error(`checking failed: ${reply.message}`));
    // The next check may be one already cancelled: watch it too.
    const next = this.pending.values().next().value;
    if (next && isCancelled(next.job)) this.cancel(next.job);
  }

  /** A thread that died takes its queued checks with it; the next check starts a new thread. */
  private lost(w: Worker, message: string): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new Error(message));
  }
}
