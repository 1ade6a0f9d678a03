// The wasm back end as a session picks it: every core when the runtime can share a
// WebAssembly.Memory between threads (Node; a page when cross-origin isolated), one thread
// otherwise, and a line saying which. Browser-safe: threads.ts starts Node's or a page's threads.

import type { Executor } from '../executor.ts';
import { WasmExecutor } from './executor.ts';
import { openKernelThreads } from './threads.ts';

export interface WasmChoice {
  readonly executor: Executor;
  readonly device: string;
  /** Set when it runs on fewer threads than asked for, and why. */
  readonly note?: string;
  readonly close: () => void;
}

/** `threads` default: CNNC_THREADS in Node, else every core. */
export async function openWasmExecutor(threads?: number): Promise<WasmChoice> {
  const { pool, note } = await openKernelThreads(threads);
  const executor = new WasmExecutor(pool);
  return { executor, device: executor.name, ...(note ? { note } : {}), close: () => pool?.close() };
}
