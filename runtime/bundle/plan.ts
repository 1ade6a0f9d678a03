// What a generated bundle hands the runtime: the model's feeds and weights, and each compiled
// program (training step, evaluation) twice, as the WebGPU runtime's plan and as the wasm
// runtime's. Plain data: the emitter writes it into the bundle's module and manifest.json, the
// runtime only reads it.

import type { WeightInit } from '../../compiler/param-init.ts';
import type { ProgramPlan } from '../webgpu/plan.ts';
import type { WasmPlan } from '../wasm/plan.ts';

export type { BufferSpec, Dispatch, ProgramPlan } from '../webgpu/plan.ts';
export type { WasmPlan } from '../wasm/plan.ts';
export type { WeightInit } from '../../compiler/param-init.ts';

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
  /** The name the model file gives the output (`output a`), as `predict` returns it. */
  readonly name: string;
  /** The program's output tensor (`output:<tensor>`) where it is not `name`: a block's last layer, `a.l2_normalize_1`. */
  readonly tensor?: string;
  readonly shape: readonly number[];
}

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
  /** The same programs for the wasm back end (pages and machines without WebGPU). */
  readonly wasm: { readonly train: WasmPlan; readonly eval: WasmPlan };
}
