// What the training loop needs from a compiled model on a backend: one call per step, evaluation,
// inference, and its state for checkpoints. Every call takes named feeds (the model's inputs and
// loss targets by name, batch axis first, PyTorch layout; bind-feeds.ts maps data fields to
// them). `createSession` (create-session.ts) builds one from a ModelGraph.

import type { Feeds } from '../executor.ts';
import type { ModelFeed } from '../../compiler/feeds.ts';
import type { MetricSpec, Tally } from './metrics.ts';

export interface StepResult {
  /** The weighted sum of the loss terms, averaged as each term defines. */
  readonly loss: number;
  /** Each loss term's unweighted value, in the order of `TrainingSession.terms`. */
  readonly terms: readonly number[];
  /** Each metric's sum and count over the batch, in the order of `TrainingSession.metrics`. */
  readonly tallies: readonly Tally[];
}

export interface EvalResult extends StepResult {
  /** The model's outputs by layer name, `count` rows each. */
  readonly outputs: ReadonlyMap<string, Float32Array>;
}

export interface SessionState {
  /** Parameters and running statistics by their safetensors names. */
  readonly weights: Map<string, Float32Array>;
  /** Optimizer slots and step counters. */
  readonly optimizer: Map<string, Float32Array>;
}

export interface LossTermInfo {
  /** `binary_cross_entropy(face)`. */
  readonly label: string;
  readonly weight: number;
}

export interface TrainingSession {
  /** The batch the training program was compiled for. */
  readonly batchSize: number;
  /** Where it runs, for the user: `cpu (reference executor)`, `webgpu: SwiftShader (core)`. */
  readonly device: string;
  /** Why this device was chosen, when `auto` passed over one. */
  readonly deviceNote?: string;
  /** Shapes of weights and optimizer state, by name. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** What every step and evaluation reads (inputs, then loss targets). */
  readonly feeds: readonly ModelFeed[];
  readonly terms: readonly LossTermInfo[];
  readonly metrics: readonly MetricSpec[];
  /** The model's outputs (layer names), as `predict` and `evaluate` return them. */
  readonly outputs: readonly string[];
  /** Each output's shape per example in the course's notation (H x W x C, as the checker types it). */
  readonly outputShapes: ReadonlyMap<string, readonly number[]>;
  /** One training step on a full batch of feeds. */
  trainStep(feeds: Feeds): Promise<StepResult>;
  /** Inference-mode loss, metrics and outputs of `count` examples (any count up to any size). */
  evaluate(feeds: Feeds, count: number): Promise<EvalResult>;
  /** Inference-mode outputs of `count` examples; reads the model's inputs only. */
  predict(feeds: Feeds, count: number): Promise<Map<string, Float32Array>>;
  saveState(): Promise<SessionState>;
  loadState(state: SessionState): Promise<void>;
  dispose(): void;
}
