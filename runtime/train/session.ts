// What the training loop needs from a compiled model on a backend: one call per step, evaluation,
// and its state for checkpoints. `createSession` (create-session.ts) builds one from a ModelGraph.

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
  /** The batch the programs were compiled for; evaluation pads shorter batches. */
  readonly batchSize: number;
  /** Where it runs, for the user: `cpu (reference executor)`, `webgpu: SwiftShader (core)`. */
  readonly device: string;
  /** Why this device was chosen, when `auto` passed over one. */
  readonly deviceNote?: string;
  /** Shapes of weights and optimizer state, by name. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** One step on a full batch: images NCHW, labels as class indices. */
  trainStep(images: Float32Array, labels: Int32Array): Promise<StepResult>;
  /** Inference-mode forward of up to batchSize examples: mean loss and class probabilities [count, classes]. */
  evaluate(images: Float32Array, labels: Int32Array, count: number): Promise<{ loss: number; probabilities: Float32Array }>;
  saveState(): Promise<SessionState>;
  loadState(state: SessionState): Promise<void>;
  dispose(): void;
}
