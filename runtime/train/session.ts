// What the training loop needs from a compiled model on a backend: one call per step, evaluation,
// and its state for checkpoints. `createSession` (session-factory.ts) builds one from a ModelGraph.

/** One batch in the IR's layout: images NCHW, labels as f32 class indices. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: Float32Array;
  /** Examples in this batch (the last batch of an epoch may be short only in evaluation). */
  readonly count: number;
}

export interface StepResult {
  readonly loss: number;
  /** Correct top-1 predictions in the batch, where the loss is a classification loss. */
  readonly correct?: number;
}

export interface SessionState {
  /** Parameters and running statistics by their safetensors names. */
  readonly weights: Map<string, Float32Array>;
  /** Optimizer slots and step counters. */
  readonly optimizer: Map<string, Float32Array>;
}

export interface TrainingSession {
  readonly batchSize: number;
  /** Where it runs, for the user: `cpu (reference executor)`, `webgpu: SwiftShader (core)`. */
  readonly device: string;
  /** Shapes of the weights, by name. */
  readonly weightShapes: ReadonlyMap<string, readonly number[]>;
  trainStep(batch: Batch): Promise<StepResult>;
  /** Inference-mode forward: loss and class probabilities [count, classes]. */
  evaluate(batch: Batch): Promise<{ loss: number; probabilities: Float32Array }>;
  saveState(): Promise<SessionState>;
  loadState(state: SessionState): Promise<void>;
  dispose(): void;
}
