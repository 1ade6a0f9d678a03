// The control block main thread and kernel workers share (an Int32Array over a SharedArrayBuffer):
// the main thread posts a job by writing it and bumping GEN; each worker runs its part and
// decrements PENDING; the last one wakes the main thread. A worker that stops sets STOPPED and
// wakes the main thread too, which cannot see the worker's exit event while it waits.

export const GEN = 0;
/** The program whose function runs, or YIELD: workers return to their event loop (to attach). */
export const PROGRAM = 1;
/** The function's index in the program, or DETACH: workers drop the program. */
export const FN = 2;
export const UNITS = 3;
export const PARTS = 4;
export const PENDING = 5;
/** Set by a worker whose part failed (1); the main thread throws after the job. */
export const FAILED = 6;
/** Set by a worker thread that exits (1): no job can complete any more. */
export const STOPPED = 7;
export const CONTROL_INTS = 8;
export const YIELD = -1;
export const DETACH = -1;

/** Units [lo, hi) of part `t` of `parts`. */
export function partOf(units: number, parts: number, t: number): [number, number] {
  return [Math.floor((units * t) / parts), Math.floor((units * (t + 1)) / parts)];
}

export interface AttachMessage {
  readonly kind: 'attach';
  readonly id: number;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly names: readonly string[];
  readonly scratchBase: number;
  readonly scratchBytes: number;
}

/** What a worker posts back: the program it attached, or why a part failed. */
export type WorkerReply = { readonly kind: 'attached'; readonly id: number } | { readonly kind: 'failed'; readonly error: string };

export interface WorkerInit {
  readonly control: SharedArrayBuffer;
  /** This worker's thread index (the main thread is 0). */
  readonly index: number;
}
