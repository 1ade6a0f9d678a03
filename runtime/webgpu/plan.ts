// A compiled program as the WebGPU runtime runs it: buffers, dispatches in order, the outputs read
// back and the updates of persistent tensors. Plain data, written by the compiler
// (compiler/emit-ts/plan-program.ts) and run by runtime/webgpu/program.ts, whether it was planned a
// moment ago in the same process (the Node executor) or shipped inside a bundle.

/** One compute dispatch: a kernel, the buffer bound at each binding, the workgroup grid. */
export interface Dispatch {
  /** Key of the kernel's WGSL text (in a bundle also its file name under kernels/, without `.wgsl`). */
  readonly kernel: string;
  /** Buffer id at binding 0, 1, ...; the last bindings are the ones written. */
  readonly bind: readonly number[];
  /** How many leading bindings are read-only. */
  readonly reads: number;
  readonly groups: readonly [number, number, number];
}

/** A device buffer: scratch owned by the program, or a named tensor (feed, weight, state) shared by name. */
export interface BufferSpec {
  readonly bytes: number;
  /** A feed's, weight's or optimizer state's name: the program binds the model's buffer for it. */
  readonly tensor?: string;
}

export interface ProgramPlan {
  readonly buffers: readonly BufferSpec[];
  readonly dispatches: readonly Dispatch[];
  /** Read back after a run: `loss`, `output:<layer>`. */
  readonly outputs: readonly { readonly name: string; readonly buffer: number; readonly shape: readonly number[] }[];
  /** Copies at the end of a run: the persistent tensor `tensor` takes the value in `from`. */
  readonly updates: readonly { readonly tensor: string; readonly from: number }[];
}
