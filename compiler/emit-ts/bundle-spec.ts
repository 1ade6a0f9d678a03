// Compiles a checked model (any with a loss: several inputs, any targets) into what a bundle
// holds: its training step and evaluation program, planned for any WebGPU device (default limits:
// 8 storage buffers per kernel, 64-invocation register-tiled GEMMs) and for the wasm back end (one
// module each, for pages and machines without WebGPU), plus the feeds, weights and optimizer
// state the runtime allocates.

import { namedOutputs, type ModelGraph } from '../graph.ts';
import { buildEvalProgram } from '../lower/programs.ts';
import { SEED_FEED } from '../lower/lower.ts';
import { irShape } from '../lower/layout.ts';
import { modelFeeds, termLabel } from '../feeds.ts';
import { GPU_TILING, SOFTWARE_TILING } from '../codegen/wgsl/tiled.ts';
import type { OptimizerConfig } from '../optim/optimizers.ts';
import { buildTrainStep } from '../optim/train-step.ts';
import type { BundleSpec, FeedSpec, WeightSpec } from '../../runtime/bundle/plan.ts';
import { initFor } from '../param-init.ts';
import { planProgram, type PlannedProgram } from './plan-program.ts';
import { planWasm, type PlannedWasm } from './plan-wasm.ts';
import { UserError } from '../../grammar/user-error.ts';

export class BundleBuildError extends UserError {
  override readonly name = 'BundleBuildError';
}

export interface BundleOptions {
  readonly batch: number;
  readonly optimizer: OptimizerConfig;
  /** WebGPU's guaranteed minimum, so the bundle runs on every device. */
  readonly maxStorageBuffers?: number;
  /** Which devices the kernels are tuned for (default software). */
  readonly target?: BundleTarget;
}

/** Kernels tuned for software WebGPU devices (register tiles) or for GPUs (workgroup-memory tiles). */
export const BUNDLE_TARGETS = ['software', 'gpu'] as const;
export type BundleTarget = (typeof BUNDLE_TARGETS)[number];

/** The most threads a bundle's wasm programs split over (their memory holds a scratch area each). */
export const BUNDLE_MAX_THREADS = 16;

export interface CompiledBundle {
  readonly spec: BundleSpec;
  readonly train: PlannedProgram;
  readonly eval: PlannedProgram;
  readonly wasm: { readonly train: PlannedWasm; readonly eval: PlannedWasm };
  readonly optimizer: OptimizerConfig;
  readonly target: BundleTarget;
}

export function compileBundle(graph: ModelGraph, options: BundleOptions): CompiledBundle {
  if (!Number.isInteger(options.batch) || options.batch < 1) throw new BundleBuildError(`batch must be a positive integer, got ${options.batch}`);
  if (graph.loss.length === 0) throw new BundleBuildError(`model ${graph.name} declares no loss; a bundle trains its model (add e.g. \`loss cross_entropy\`)`);
  const classifier = graph.loss.find((t) => t.fn === 'cross_entropy');
  const feedInputs = graph.inputs.filter((i) => !i.trainable);
  const outputLayer = classifier ? graph.layers.find((l) => l.name === classifier.args[0]) : undefined;

  const step = buildTrainStep(graph, options.batch, options.optimizer);
  const evalProgram = buildEvalProgram(graph, options.batch);
  const described = new Map(modelFeeds(graph).map((f) => [f.name, f] as const));
  const feeds: FeedSpec[] = [...step.feeds].map(([name, shape]) => {
    if (name === SEED_FEED) return { name, kind: 'seed', shape: [...shape] };
    const f = described.get(name);
    if (!f) throw new BundleBuildError(`model ${graph.name} needs a feed '${name}' that is neither an input nor a loss target`);
    return { name, kind: f.role, shape: [...shape], ...(f.classes !== undefined ? { classes: f.classes } : {}) };
  });
  const params = new Map(graph.layers.flatMap((l) => l.params).map((p) => [p.name, p]));
  const trainableInputs = new Set(graph.inputs.filter((i) => i.trainable).map((i) => i.name));
  const weights: WeightSpec[] = [];
  const state: { name: string; shape: number[] }[] = [];
  for (const [name, shape] of step.persistent) {
    const p = params.get(name);
    if (p !== undefined) weights.push({ name, shape: [...shape], trainable: p.trainable, init: initFor(p) });
    // A trainable input (style transfer's generated image) starts mid-grey; load the real start with setWeights.
    else if (trainableInputs.has(name)) weights.push({ name, shape: [...shape], trainable: true, init: { kind: 'const', value: 0.5 } });
    else if (step.optimizerState.has(name)) state.push({ name, shape: [...shape] });
    else throw new BundleBuildError(`model ${graph.name} keeps a tensor '${name}' that is neither a weight nor optimizer state`);
  }

  const target = options.target ?? 'software';
  const plan = { maxStorageBuffers: options.maxStorageBuffers ?? 8, tiling: target === 'gpu' ? GPU_TILING : SOFTWARE_TILING };
  const train = planProgram(step.program, { ...plan, prefix: 'train' });
  const evaluation = planProgram(evalProgram, { ...plan, prefix: 'eval' });
  const wasm = { train: planWasm(step.program, { maxThreads: BUNDLE_MAX_THREADS }), eval: planWasm(evalProgram, { maxThreads: BUNDLE_MAX_THREADS }) };
  const wgsl: Record<string, string> = {};
  for (const [k, v] of [...train.wgsl, ...evaluation.wgsl]) wgsl[k] = v;
  const image = feedInputs.length === 1 && feedInputs[0]!.shape.length === 3 ? feeds.find((f) => f.name === feedInputs[0]!.name) : undefined;
  const spec: BundleSpec = {
    model: graph.name,
    batch: options.batch,
    ...(image && outputLayer ? { input: { name: image.name, shape: image.shape.slice(1) }, output: { name: outputLayer.name, classes: outputLayer.shape.reduce((a, b) => a * b, 1) } } : {}),
    feeds,
    outputs: namedOutputs(graph).map(({ name, tensor }) => ({ name, ...(tensor !== name ? { tensor } : {}), shape: irShape(graph.layers.find((l) => l.name === tensor)?.shape ?? [], 1).slice(1) })),
    terms: graph.loss.map(termLabel),
    weights,
    state,
    train: train.plan,
    eval: evaluation.plan,
    wgsl,
    wasm: { train: wasm.train.plan, eval: wasm.eval.plan },
  };
  return { spec, train, eval: evaluation, wasm, optimizer: options.optimizer, target };
}
