// Whole programs built from a lowered model: inference (outputs), and loss + gradients.

import { gradients } from '../autodiff/gradients.ts';
import type { ModelGraph } from '../graph.ts';
import { IrError } from '../ir/build.ts';
import { pruneProgram, type IrProgram } from '../ir/program.ts';
import { lowerModel, type LoweredModel } from './lower.ts';
import { ProgramRequestError } from '../program-request-error.ts';

/** Forward pass in eval mode: outputs named `output:<layer>` for each model output. */
export function buildInferenceProgram(graph: ModelGraph, batch: number): IrProgram {
  const m = lowerModel(graph, { batch, mode: 'eval' });
  const outputs = new Map<string, number>();
  for (const name of graph.outputs) outputs.set(`output:${name}`, m.values.get(name)!);
  return pruneProgram({ nodes: m.builder.nodes, outputs, updates: [] });
}

/**
 * What a training or evaluation program reports besides its updates: `loss`, `term:<i>` (each
 * loss term unweighted, in the order of `graph.loss`), `output:<layer>` for each model output and
 * `value:<name>` for each observed layer or input (what metrics read).
 */
export function lossOutputs(graph: ModelGraph, m: LoweredModel, observe: readonly string[]): Map<string, number> {
  if (m.loss === undefined) throw new ProgramRequestError(`model ${graph.name} declares no loss`);
  const outputs = new Map<string, number>([['loss', m.loss]]);
  m.terms.forEach((node, i) => outputs.set(`term:${i}`, node));
  for (const name of graph.outputs) outputs.set(`output:${name}`, m.values.get(name)!);
  for (const name of observe) {
    const node = m.values.get(name);
    if (node === undefined) throw new IrError(`model ${graph.name} has no layer or input '${name}'`);
    outputs.set(`value:${name}`, node);
  }
  return outputs;
}

/** Loss and outputs in eval mode (running statistics, no dropout), for evaluation: see lossOutputs. */
export function buildEvalProgram(graph: ModelGraph, batch: number, observe: readonly string[] = []): IrProgram {
  const m = lowerModel(graph, { batch, mode: 'eval' });
  return pruneProgram({ nodes: m.builder.nodes, outputs: lossOutputs(graph, m, observe), updates: [] });
}

export interface GradProgram {
  readonly program: IrProgram;
  readonly lowered: LoweredModel;
  /** Node of each trainable leaf's gradient, by the leaf's name. */
  readonly grads: ReadonlyMap<string, number>;
  readonly loss: number;
}

/**
 * Loss and gradients for one batch in train mode (batch statistics, dropout) without updates:
 * outputs `loss` and one gradient per trainable parameter under the parameter's name.
 */
export function buildGradProgram(graph: ModelGraph, batch: number, mode: 'train' | 'eval' = 'train'): GradProgram {
  const lowered = lowerModel(graph, { batch, mode });
  if (lowered.loss === undefined) throw new ProgramRequestError(`model ${graph.name} declares no loss`);
  const loss = lowered.loss;
  const g = gradients(lowered.builder, loss, lowered.trainable.map((t) => t.node));
  const grads = new Map<string, number>();
  const outputs = new Map<string, number>([['loss', loss]]);
  for (const t of lowered.trainable) {
    grads.set(t.name, g.get(t.node)!);
    outputs.set(t.name, g.get(t.node)!);
  }
  const program: IrProgram = { nodes: lowered.builder.nodes, outputs, updates: [] };
  return { program, lowered, grads, loss };
}
