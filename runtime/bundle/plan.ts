// What a generated bundle hands the runtime: the model's feeds and weights, and each compiled
// program (training step, evaluation) as buffers, dispatches, outputs and updates. Plain data:
// the emitter writes it into the bundle's module and manifest.json, the runtime only reads it.

/** Role of a tensor fed with every batch: a model input, a loss target, or the dropout seed (the runtime's). */
export type FeedKind = 'input' | 'target' | 'seed';

export interface FeedSpec {
  readonly name: string;
  readonly kind: FeedKind;
  /** With the batch axis first. */
  readonly shape: readonly number[];
  /** Class indices (a cross_entropy target), given as plain numbers. */
  readonly classes?: number;
}

/** A model output: its layer name and one example's shape (PyTorch layout). */
export interface OutputSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** How a weight starts: He-uniform over its fan-in, or a constant. */
export type WeightInit = { readonly kind: 'he_uniform'; readonly fanIn: number } | { readonly kind: 'const'; readonly value: number };

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** False for running statistics and frozen layers. */
  readonly trainable: boolean;
  readonly init: WeightInit;
}

/** Persistent tensors that are not weights: optimizer slots and the step counter (start at 0). */
export interface StateSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** One compute dispatch: a kernel, the buffer bound at each binding, the workgroup grid. */
export interface Dispatch {
  /** Key of the kernel's WGSL text (also its file name under kernels/, without `.wgsl`). */
  readonly kernel: string;
  /** Buffer id at binding 0, 1, ...; the last bindings are the ones written. */
  readonly bind: readonly number[];
  /** How many leading bindings are read-only. */
  readonly reads: number;
  readonly groups: readonly [number, number, number];
}

/** A device buffer: scratch owned by the program, or a persistent tensor shared by name. */
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

export interface BundleSpec {
  readonly model: string;
  readonly batch: number;
  /** A classifier's image input, one example's shape (C, H, W): what `{ images, labels }` batches and `predict(images)` feed. */
  readonly input?: { readonly name: string; readonly shape: readonly number[] };
  /** A classifier's probabilities layer (its cross_entropy term's), and how many classes. */
  readonly output?: { readonly name: string; readonly classes: number };
  readonly feeds: readonly FeedSpec[];
  /** The model's outputs, as `predict(feeds)` returns them. */
  readonly outputs: readonly OutputSpec[];
  /** Each loss term, `binary_cross_entropy(face)`, as the programs output them (`term:<i>`). */
  readonly terms: readonly string[];
  readonly weights: readonly WeightSpec[];
  readonly state: readonly StateSpec[];
  readonly train: ProgramPlan;
  readonly eval: ProgramPlan;
  /** WGSL text of every kernel, by Dispatch.kernel. */
  readonly wgsl: Readonly<Record<string, string>>;
}
