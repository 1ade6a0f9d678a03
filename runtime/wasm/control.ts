// The control block main thread and kernel threads share (an Int32Array over a SharedArrayBuffer):
// the main thread posts a job by writing it and bumping GEN; each thread runs its part and
// decrements PENDING; the last one wakes the main thread. A thread that stops sets STOPPED and
// wakes the main thread too, which cannot see the thread's exit event while it waits.

export const CONTROL = {
  GEN: 0,
  /** The program whose function runs, or YIELD: threads return to their event loop (to attach). */
  PROGRAM: 1,
  /** The function's index in the program, or DETACH: threads drop the program. */
  FN: 2,
  UNITS: 3,
  PARTS: 4,
  PENDING: 5,
  /** Set by a thread whose part failed (1); the main thread throws after the job. */
  FAILED: 6,
  /** Set by a thread that exits (1): no job can complete any more. */
  STOPPED: 7,
  YIELD: -1,
  DETACH: -1,
} as const;

export const CONTROL_INTS = 8;

/** Units [lo, hi) of part `t` of `parts` (kernel-thread.ts computes the same inline). */
export function partOf(units: number, parts: number, t: number): [number, number] {
  return [Math.floor((units * t) / parts), Math.floor((units * (t + 1)) / parts)];
}

/** A thread's first message: its place. */
export interface InitMessage {
  readonly kind: 'init';
  readonly control: SharedArrayBuffer;
  /** This thread's index (the main thread is 0). */
  readonly index: number;
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

/** What a thread posts back: the program it attached, or why a part failed. */
export type WorkerReply = { readonly kind: 'attached'; readonly id: number } | { readonly kind: 'failed'; readonly error: string };
