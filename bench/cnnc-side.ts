// The cnnc side of the training benchmark, as a pluggable function. The bench owns the device and
// the model description; cnnc compiles `model.cnn` (a `.cnn` model describing the same network as
// `model.layers`), trains it on `bench.device` and reports what it measured.

import { compileModel } from '../compiler/program.ts';
import { initialWeights } from '../runtime/init.ts';
import { buildTrainStep, resetOptimizerState } from '../compiler/optim/train-step.ts';
import type { GpuContext } from '../runtime/webgpu/device.ts';
import { WebGpuExecutor, type WebGpuPrepared } from '../runtime/webgpu/executor.ts';
import type { BenchDevice } from './device.ts';
import { modelStats } from './model-stats.ts';
import { randomBatch } from './random-batch.ts';
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

/** NHWC batch (the bench's layout, as tfjs takes it) to NCHW (cnnc's IR). */
function toNchw(images: Float32Array, n: number, [h, w, c]: readonly [number, number, number]): Float32Array {
  const out = new Float32Array(images.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = images[((b * h + y) * w + x) * c + k]!;
  return out;
}

/**
 * cnnc's trainer: compiles the `.cnn` model, builds the training step (forward, loss, backward,
 * SGD update) and runs it with the weights resident on the bench's device, one command buffer a
 * step. The conv rate is the step's conv FLOPs over the whole step time: a lower bound.
 */
/**
 * The bench model's SGD training step compiled from its `.cnn` file and prepared on `context`
 * with seeded weights loaded; `run` submits one step on the bench's fixed batch and returns its loss.
 */
export async function prepareCnncStep(model: BenchModel, context: GpuContext): Promise<{ prepared: WebGpuPrepared; run: () => Promise<number> }> {
  const compiled = compileModel({ file: model.cnn.file, model: model.cnn.model, overrides: model.cnn.overrides });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (!compiled.graph || errors.length > 0) throw new Error(`${model.cnn.file}: ${errors.map((d) => d.message).join('; ')}`);
  const graph = compiled.graph;
  const step = buildTrainStep(graph, model.batch, { kind: 'sgd', lr: model.optimizer.learningRate });
  const prepared = await new WebGpuExecutor(context).prepare(step.program);
  const store = new Map<string, Float32Array>(initialWeights(graph, 1));
  resetOptimizerState(step, store);
  for (const [name, shape] of step.persistent) if (!store.has(name)) store.set(name, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  prepared.load(store);
  const batch = randomBatch(model, 1);
  const feeds = new Map([
    [model.inputName, toNchw(batch.images, model.batch, model.inputShape)],
    ['labels', Float32Array.from(batch.labels)],
  ]);
  return { prepared, run: async () => (await prepared.step(feeds)).get('loss')![0]! };
}

const cnncTrainer: CnncTrainer = async (model, bench, plan) => {
  const start = performance.now();
  const { prepared, run } = await prepareCnncStep(model, bench.context);
  try {
    await run();
    const firstStepMs = performance.now() - start;
    for (let i = 0; i < plan.warmupSteps; i++) await run();
    const t = performance.now();
    // Steps are queued back to back; each loss is awaited, as the tfjs side does.
    const losses = await Promise.all(Array.from({ length: plan.timedSteps }, () => run()));
    const seconds = (performance.now() - t) / 1000;
    if (!losses.every(Number.isFinite)) throw new Error(`cnnc's loss is not finite: ${losses.join(', ')}`);
    const convMacs = modelStats(model).convMacs;
    return {
      imagesPerS: (plan.timedSteps * model.batch) / seconds,
      firstStepMs,
      dispatchesPerStep: prepared.dispatches,
      peakBytes: prepared.memory.plannedBytes + prepared.memory.fixedBytes,
      convFractionOfGemmPeak: null,
      convGflopPerS: (convMacs * 3 * 2 * model.batch * plan.timedSteps) / seconds / 1e9,
    };
  } finally {
    prepared.dispose();
  }
};

export async function loadCnncSide(): Promise<CnncSide> {
  if (override !== undefined) return { trainer: override };
  return { trainer: cnncTrainer };
}
