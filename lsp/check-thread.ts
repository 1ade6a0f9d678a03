// Runs the language server's checks on a thread of their own (check-worker.ts), so the server's
// thread stays free: it answers requests while a check runs, and the next edit cancels a running
// check at once (a shared flag the checker polls) instead of waiting for it to end.

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

interface Pending {
  readonly resolve: (r: CheckResult | undefined) => void;
  readonly reject: (e: Error) => void;
}

export class CheckThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Queues a check behind the running one (cancel that one first to start this one at once). */
  start(request: CheckRequest): RunningCheck {
    const cancel = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const job: CheckJob = { ...request, id: this.nextId++, cancel };
    const result = new Promise<CheckResult | undefined>((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.thread().postMessage(job);
    });
    return { result, cancel: () => Atomics.store(new Int32Array(cancel), 0, 1) };
  }

  close(): Promise<number> | undefined {
    const w = this.worker;
    this.worker = undefined;
    return w?.terminate();
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
    if (reply.outcome === 'done') p.resolve(reply.result);
    else if (reply.outcome === 'cancelled') p.resolve(undefined);
    else p.reject(new Error(`checking failed: ${reply.message}`));
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
