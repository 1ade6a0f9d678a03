// Page module: one real training step of a .cnn model in the browser. The repository's front end
// checks the model, compiler/optim builds the step's IR, and runtime/webgpu's executor runs it on
// the page's WebGPU device (navigator.gpu). Returns the loss and the updated parameters; the test
// compares them with the CPU reference executor in Node on the same data.

import type { BlockDecl, ModelDecl } from '../../../grammar/ast.ts';
import { expandModel } from '../../../compiler/checker/expand.ts';
import { formatDiagnostic } from '../../../grammar/diagnostics.ts';
import { parseSource } from '../../../grammar/index.ts';
import type { OptimizerConfig } from '../../../compiler/optim/optimizers.ts';
import { buildTrainStep, resetOptimizerState } from '../../../compiler/optim/train-step.ts';
import { acquireDevice } from '../../../runtime/webgpu/device.ts';
import { WebGpuExecutor } from '../../../runtime/webgpu/executor.ts';

export interface TrainStepArgs {
  readonly file: string;
  readonly text: string;
  readonly model: string;
  readonly batch: number;
  readonly optimizer: OptimizerConfig;
  readonly feeds: Readonly<Record<string, readonly number[]>>;
  /** Parameters and state; optimizer slots are zeroed here. */
  readonly store: Readonly<Record<string, readonly number[]>>;
  /** Parameters whose updated values come back. */
  readonly report: readonly string[];
}

export interface TrainStepReport {
  readonly loss: number;
  readonly updated: Readonly<Record<string, number[]>>;
  readonly dispatches: number;
  readonly ms: { readonly compile: number; readonly prepare: number; readonly step: number };
}

export default async function trainStep(args: TrainStepArgs): Promise<TrainStepReport> {
  const t0 = performance.now();
  const parsed = parseSource(args.text, args.file);
  const blocks = new Map<string, BlockDecl>();
  let model: ModelDecl | undefined;
  for (const decl of parsed.source.declarations) {
    if (decl.kind === 'block') blocks.set(decl.name.name, decl);
    if (decl.kind === 'model' && decl.name.name === args.model) model = decl;
  }
  if (model === undefined) throw new Error(`no model '${args.model}' in ${args.file}`);
  const expanded = expandModel(model, { blocks });
  if (expanded.graph === undefined) throw new Error(expanded.diagnostics.map(formatDiagnostic).join('\n'));
  const step = buildTrainStep(expanded.graph, args.batch, args.optimizer);
  const t1 = performance.now();

  const gpu = await acquireDevice();
  try {
    const prepared = await new WebGpuExecutor(gpu).prepare(step.program);
    const t2 = performance.now();
    const feeds = new Map(Object.entries(args.feeds).map(([k, v]) => [k, Float32Array.from(v)]));
    const store = new Map(Object.entries(args.store).map(([k, v]) => [k, Float32Array.from(v)]));
    resetOptimizerState(step, store);
    const outputs = await prepared.run(feeds, store);
    const t3 = performance.now();
    const loss = outputs.get('loss');
    if (loss === undefined) throw new Error('the step gave no loss');
    const updated = Object.fromEntries(args.report.map((name) => [name, Array.from(store.get(name) ?? [])]));
    prepared.dispose();
    return { loss: loss[0]!, updated, dispatches: prepared.dispatches, ms: { compile: t1 - t0, prepare: t2 - t1, step: t3 - t2 } };
  } finally {
    gpu.release();
  }
}
