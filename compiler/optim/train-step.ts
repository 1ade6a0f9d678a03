// One compiled training step: forward, loss, backward, batchnorm running averages and the
// optimizer update, as one IR program.

import { buildGradProgram, lossOutputs } from '../lower/programs.ts';
import type { ModelGraph } from '../graph.ts';
import { pruneProgram, type IrProgram } from '../ir/program.ts';
import { appendOptimizer, optimizerState, type OptimizerConfig } from './optimizers.ts';

export interface TrainStep {
  /**
   * Outputs `loss`, each loss term, the model's outputs and the observed values (lossOutputs);
   * updates every trained tensor, optimizer slot, running statistic and the step.
   */
  readonly program: IrProgram;
  /** Every persistent tensor the program reads with its shape: params, running stats, slots. */
  readonly persistent: ReadonlyMap<string, readonly number[]>;
  /** Optimizer slots and the step counter: initialise to zeros. */
  readonly optimizerState: ReadonlyMap<string, readonly number[]>;
  readonly feeds: ReadonlyMap<string, readonly number[]>;
}

export function buildTrainStep(graph: ModelGraph, batch: number, optimizer: OptimizerConfig, observe: readonly string[] = []): TrainStep {
  const { lowered, grads, loss } = buildGradProgram(graph, batch, 'train');
  const b = lowered.builder;
  const tensors = lowered.trainable.map((t) => ({ name: t.name, node: t.node, grad: grads.get(t.name)!, shape: b.shape(t.node) }));
  const updates = [...lowered.updates, ...appendOptimizer(b, optimizer, tensors)];
  const outputs = lossOutputs(graph, lowered, observe);
  outputs.set('loss', loss);
  const program = pruneProgram({ nodes: b.nodes, outputs, updates });
  const slots = optimizerState(optimizer, tensors);
  const persistent = new Map<string, readonly number[]>([...lowered.persistent, ...slots]);
  return { program, persistent, optimizerState: slots, feeds: lowered.feeds };
}

/** Sets every optimizer slot and the step counter in `store` to zeros (a fresh optimizer). */
export function resetOptimizerState(step: TrainStep, store: Map<string, Float32Array>): void {
  for (const [name, shape] of step.optimizerState) store.set(name, new Float32Array(shape.reduce((p, d) => p * d, 1)));
}
