// The wasm back end as a session picks it: every core when the runtime can share a
// WebAssembly.Memory between threads, one thread otherwise, and a line saying which.

import type { Executor } from '../executor.ts';
import { WasmExecutor } from './executor.ts';
import { canShareMemory, defaultThreads, WorkerPool } from './workers.ts';

export interface WasmChoice {
  readonly executor: Executor;
  readonly device: string;
  /** Set when it runs on fewer threads than asked for, and why. */
  readonly note?: string;
  readonly close: () => void;
}

export function openWasmExecutor(threads = defaultThreads()): WasmChoice {
  if (threads > 1 && !canShareMemory()) {
    const executor = new WasmExecutor();
    return { executor, device: 'wasm (1 thread)', note: 'no shared WebAssembly memory here (a page must be cross-origin isolated): one thread', close: () => undefined };
  }
  const pool = threads > 1 ? new WorkerPool(threads) : undefined;
  const executor = new WasmExecutor(pool);
  return { executor, device: executor.name, close: () => pool?.close() };
}
