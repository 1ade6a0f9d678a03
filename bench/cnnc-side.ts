// The cnnc side of the training benchmark, as a pluggable function. The bench owns the device and
// the model description; cnnc compiles `model.cnn` (a `.cnn` model describing the same network as
// `model.layers`), trains it on `bench.device` and reports what it measured.

import type { BenchDevice } from './device.ts';
import type { BenchModel } from './models.ts';
import type { StepPlan } from './tfjs-peer.ts';

export interface CnncFigures {
  /** Steady training rate over `plan.timedSteps` steps, each awaited to its loss on the host. */
  readonly imagesPerS: number;
  /** From compiling the `.cnn` file (pipeline creation included) to the first step's loss on the host. */
  readonly firstStepMs: number;
  /** Compute dispatches per training step; null to let the bench count them itself. */
  readonly dispatchesPerStep: number | null;
  /** Bytes of GPU buffers the compiled step allocates (planned activations, parameters, optimizer state). */
  readonly peakBytes: number;
  /**
   * Achieved conv GFLOP/s divided by the device's GEMM peak; null to let the bench divide
   * `convGflopPerS` by its own measured peak (bench/gemm-peak.ts), or where nothing was measured.
   */
  readonly convFractionOfGemmPeak: number | null;
  /** Conv FLOPs of a step over the time cnnc's conv kernels took (e.g. from timestamp queries). */
  readonly convGflopPerS?: number;
}

/**
 * Compiles and trains `model` on `bench.device`: one first step (timed from the start of
 * compilation), then `plan.warmupSteps` untimed and `plan.timedSteps` timed steps, each awaited
 * to its loss on the host. The bench counts dispatches over all of them when the trainer does not.
 */
export type CnncTrainer = (model: BenchModel, bench: BenchDevice, plan: StepPlan) => Promise<CnncFigures>;

/** Why there is no cnnc trainer yet, or the trainer. */
export type CnncSide = { readonly trainer: CnncTrainer } | { readonly missing: string };

let override: CnncTrainer | undefined;

/** Lets a caller (a test, or the lead's wiring) supply the cnnc side. */
export function setCnncTrainer(trainer: CnncTrainer | undefined): void {
  override = trainer;
}

/**
 * The cnnc WebGPU executor does not exist yet. When it does, return
 * `{ trainer: (model, bench, plan) => ... }` here (`compileModel(model.cnn)` from compiler/program.ts, lower, run
 * `plan.warmupSteps` + `plan.timedSteps` steps on `bench.device`).
 */
export async function loadCnncSide(): Promise<CnncSide> {
  if (override !== undefined) return { trainer: override };
  return { missing: 'the cnnc WebGPU executor does not exist yet; cnnc fields are null' };
}
