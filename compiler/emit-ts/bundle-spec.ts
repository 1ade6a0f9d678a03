// Compiles a checked model into what a bundle holds: its training step and evaluation program,
// planned for any WebGPU device (default limits: 8 storage buffers per kernel, 64-invocation
// register-tiled GEMMs), plus the feeds, weights and optimizer state the runtime allocates.

import type { ModelGraph, ParamSpec } from '../graph.ts';
import { buildEvalProgram } from '../lower/programs.ts';
import { SEED_FEED } from '../lower/lower.ts';
import { GPU_TILING, SOFTWARE_TILING } from '../codegen/wgsl/tiled.ts';
import type { OptimizerConfig } from '../../runtime/optim/optimizers.ts';
import { buildTrainStep } from '../../runtime/optim/train-step.ts';
import type { BundleSpec, FeedSpec, WeightInit, WeightSpec } from '../../runtime/bundle/plan.ts';
import { planProgram, type PlannedProgram } from './plan-program.ts';

export class BundleBuildError extends Error {
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

export interface CompiledBundle {
  readonly spec: BundleSpec;
  readonly train: PlannedProgram;
  readonly eval: PlannedProgram;
  readonly optimizer: OptimizerConfig;
  readonly target: BundleTarget;
}

function initOf(p: ParamSpec): WeightInit {
  if (p.role === 'weight') return { kind: 'he_uniform', fanIn: p.shape.reduce((a, b) => a * b, 1) / p.shape[0]! };
  return { kind: 'const', value: p.role === 'gamma' || p.role === 'running_var' ? 1 : 0 };
}

export function compileBundle(graph: ModelGraph, options: BundleOptions): CompiledBundle {
  if (!Number.isInteger(options.batch) || options.batch < 1) throw new BundleBuildError(`batch must be a positive integer, got ${options.batch}`);
  const classifier = graph.loss.find((t) => t.fn === 'cross_entropy');
  if (classifier === undefined) {
    throw new BundleBuildError(`model ${graph.name} has no cross_entropy loss; bundles train classifiers (loss: ${graph.loss.map((t) => t.fn).join(', ') || 'none'})`);
  }
  const images = graph.inputs.filter((i) => !i.trainable);
  if (images.length !== 1) throw new BundleBuildError(`bundles feed one image input; model ${graph.name} has ${images.length} (${images.map((i) => i.name).join(', ')})`);
  const outputName = classifier.args[0]!;
  const outputLayer = graph.layers.find((l) => l.name === outputName);
  if (outputLayer === undefined) throw new BundleBuildError(`the loss reads '${outputName}', which is not a layer of ${graph.name}`);

  const step = buildTrainStep(graph, options.batch, options.optimizer);
  const evalProgram = buildEvalProgram(graph, options.batch);
  const feeds: FeedSpec[] = [...step.feeds].map(([name, shape]) => {
    const kind = name === images[0]!.name ? 'images' : name === 'labels' ? 'labels' : name === SEED_FEED ? 'seed' : undefined;
    if (kind === undefined) throw new BundleBuildError(`model ${graph.name} needs a feed '${name}' that bundles cannot supply (they feed images, labels and a dropout seed)`);
    return { name, kind, shape: [...shape] };
  });
  const params = new Map(graph.layers.flatMap((l) => l.params).map((p) => [p.name, p]));
  const weights: WeightSpec[] = [];
  const state: { name: string; shape: number[] }[] = [];
  for (const [name, shape] of step.persistent) {
    const p = params.get(name);
    if (p !== undefined) weights.push({ name, shape: [...shape], trainable: p.trainable, init: initOf(p) });
    else if (step.optimizerState.has(name)) state.push({ name, shape: [...shape] });
    else throw new BundleBuildError(`model ${graph.name} keeps a tensor '${name}' that is neither a weight nor optimizer state (trainable inputs are not supported by bundles)`);
  }

  const target = options.target ?? 'software';
  const plan = { maxStorageBuffers: options.maxStorageBuffers ?? 8, tiling: target === 'gpu' ? GPU_TILING : SOFTWARE_TILING };
  const train = planProgram(step.program, { ...plan, prefix: 'train' });
  const evaluation = planProgram(evalProgram, { ...plan, prefix: 'eval' });
  const wgsl: Record<string, string> = {};
  for (const [k, v] of [...train.wgsl, ...evaluation.wgsl]) wgsl[k] = v;
  const feedShape = feeds.find((f) => f.kind === 'images')!.shape;
  const spec: BundleSpec = {
    model: graph.name,
    batch: options.batch,
    input: { name: images[0]!.name, shape: feedShape.slice(1) },
    output: { name: outputName, classes: outputLayer.shape.reduce((a, b) => a * b, 1) },
    feeds,
    weights,
    state,
    train: train.plan,
    eval: evaluation.plan,
    wgsl,
  };
  return { spec, train, eval: evaluation, optimizer: options.optimizer, target };
}
