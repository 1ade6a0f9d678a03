// One training benchmark line: the same model trained by cnnc and by the TensorFlow.js peer on the
// same Dawn device, reported side by side and as a ratio (the only meaningful figure on software devices).

import { loadCnncSide, type CnncFigures } from './cnnc-side.ts';
import type { BenchDevice } from './device.ts';
import { gpuCallCounts, installDispatchCounter, perStep } from './dispatch-counter.ts';
import { devicePeak } from './gemm-peak.ts';
import { modelStats } from './model-stats.ts';
import type { BenchModel } from './models.ts';
import { runTfjsPeer, type StepPlan } from './tfjs-peer.ts';

export interface TrainingLine {
  readonly section: 'training';
  readonly model: string;
  readonly device: string;
  readonly cnnc_images_per_s: number | null;
  readonly tfjs_images_per_s: number;
  /** cnnc / tfjs images per second. */
  readonly ratio: number | null;
  /** cnnc's compute dispatches per training step. */
  readonly dispatches_per_step: number | null;
  readonly cnnc_peak_bytes: number | null;
  readonly tfjs_peak_bytes: number;
  readonly conv_fraction_of_gemm_peak: number | null;
  readonly cnnc_first_step_ms: number | null;
  readonly tfjs_first_step_ms: number;
  readonly tfjs_dispatches_per_step: number;
  readonly tfjs_submits_per_step: number;
  /** Conv FLOPs of a step (forward + both backward products) over tfjs's whole step time. */
  readonly tfjs_conv_gflop_per_s: number;
  /** tfjs_conv_gflop_per_s over the GEMM peak: a lower bound, the step also does non-conv work. */
  readonly tfjs_conv_fraction_of_gemm_peak: number;
  /** The yardstick: a 256x256x256 fp32 product with 4x4 register tiles on the same device. */
  readonly gemm_peak_gflop_per_s: number;
  readonly batch: number;
  readonly timed_steps: number;
  readonly params: number;
}

/** Few steps: a ResNet-8 step of 64 takes about 40 s in tfjs on SwiftShader. */
export const defaultPlans: Readonly<Record<string, StepPlan>> = {
  lenet5: { warmupSteps: 1, timedSteps: 3 },
  resnet8: { warmupSteps: 0, timedSteps: 1 },
};

const round = (x: number, digits = 3): number => Number(x.toPrecision(digits + 2));

async function runCnncSide(model: BenchModel, bench: BenchDevice, plan: StepPlan, log: (line: string) => void): Promise<CnncFigures | null> {
  const side = await loadCnncSide();
  if ('missing' in side) {
    log(`${model.id}: ${side.missing}`);
    return null;
  }
  installDispatchCounter();
  const before = gpuCallCounts();
  try {
    const figures = await side.trainer(model, bench, plan);
    if (figures.dispatchesPerStep !== null) return figures;
    // Counted over every step cnnc ran (first, warm-up, timed): steps are identical after compilation.
    const counted = perStep(before, gpuCallCounts(), 1 + plan.warmupSteps + plan.timedSteps);
    return { ...figures, dispatchesPerStep: counted.dispatches };
  } catch (error) {
    log(`${model.id}: the cnnc side failed: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

export async function runTrainingSection(
  model: BenchModel,
  bench: BenchDevice,
  plan: StepPlan,
  log: (line: string) => void,
): Promise<TrainingLine> {
  const stats = modelStats(model);
  log(`${model.id}: cnnc side (${plan.warmupSteps} warm-up + ${plan.timedSteps} timed steps of ${model.batch})`);
  const cnnc = await runCnncSide(model, bench, plan, log);
  log(`${model.id}: tfjs peer (${plan.warmupSteps} warm-up + ${plan.timedSteps} timed steps of ${model.batch})`);
  const tfjs = await runTfjsPeer(model, bench, plan);
  if (tfjs.params !== stats.params) {
    throw new Error(`tfjs built ${model.id} with ${tfjs.params} parameters, the description has ${stats.params}`);
  }
  log(`${model.id}: tfjs loss ${tfjs.firstLoss.toFixed(4)} -> ${tfjs.lastLoss.toFixed(4)}`);
  // Forward conv MACs, times 3 for the input and weight gradients, 2 FLOPs per MAC.
  const convFlopsPerStep = stats.convMacs * 3 * 2 * model.batch;
  const tfjsConvGflops = convFlopsPerStep / (tfjs.steadyStepMs / 1000) / 1e9;
  const peak = (await devicePeak(bench.device, bench.context.caps)).gflopPerS;
  const cnncConvFraction = cnnc === null ? null
    : cnnc.convFractionOfGemmPeak ?? (cnnc.convGflopPerS === undefined ? null : cnnc.convGflopPerS / peak);
  return {
    section: 'training',
    model: model.id,
    device: bench.name,
    cnnc_images_per_s: cnnc === null ? null : round(cnnc.imagesPerS),
    tfjs_images_per_s: round(tfjs.imagesPerS),
    ratio: cnnc === null ? null : round(cnnc.imagesPerS / tfjs.imagesPerS),
    dispatches_per_step: cnnc?.dispatchesPerStep ?? null,
    cnnc_peak_bytes: cnnc?.peakBytes ?? null,
    tfjs_peak_bytes: tfjs.peakBytes,
    conv_fraction_of_gemm_peak: cnncConvFraction === null ? null : round(cnncConvFraction),
    cnnc_first_step_ms: cnnc === null ? null : Math.round(cnnc.firstStepMs),
    tfjs_first_step_ms: Math.round(tfjs.firstStepMs),
    tfjs_dispatches_per_step: tfjs.dispatchesPerStep,
    tfjs_submits_per_step: tfjs.submitsPerStep,
    tfjs_conv_gflop_per_s: round(tfjsConvGflops),
    tfjs_conv_fraction_of_gemm_peak: round(tfjsConvGflops / peak),
    gemm_peak_gflop_per_s: round(peak),
    batch: model.batch,
    timed_steps: plan.timedSteps,
    params: stats.params,
  };
}
