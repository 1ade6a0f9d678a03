// Where a bundled model runs: the tensors by name and its two programs (training step, evaluation),
// on WebGPU or on the wasm back end. model.ts holds everything else (feeds, batches, weights'
// files), the same for both.

/** Which back end a model runs on, as the bundle says at start. */
export interface BackendInfo {
  readonly kind: 'webgpu' | 'wasm';
  /** Threads the wasm kernels split over (1 on WebGPU). */
  readonly threads: number;
  /** One line: `LeNet5 runs on wasm, 1 thread (the page is not cross-origin isolated ...)`. */
  readonly description: string;
}

export interface BundleEngine {
  readonly backend: BackendInfo;
  /** Kernels per training step. */
  readonly dispatches: number;
  /** A feed for the next run, a weight or optimizer state. */
  write(name: string, data: Float32Array): void;
  read(names: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Runs the program; resolves to the named outputs (`loss`, `term:<i>`, `output:<layer>`). */
  run(program: 'train' | 'eval', outputs: readonly string[]): Promise<Map<string, Float32Array>>;
  dispose(): void;
}
