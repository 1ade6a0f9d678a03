// The program that optimises a model's trainable input (neural style transfer's generated image):
// the loss, its content and style parts, and the gradient with respect to that input, which is
// fed with every run instead of being stored, so the caller can update it as pixels.

import { gradients } from '../autodiff/gradients.ts';
import type { LossTerm, ModelGraph } from '../graph.ts';
import type { IrNode } from '../ir/ops.ts';
import { pruneProgram, type IrProgram } from '../ir/program.ts';
import { lowerModel } from './lower.ts';
import { ProgramRequestError } from '../program-request-error.ts';

/** The loss parts reported beside J: `content` terms, `style` terms. */
export type LossGroup = 'content' | 'style';
export const LOSS_GROUPS: readonly LossGroup[] = ['content', 'style'];

/** Output names of the objective program. */
export const OBJECTIVE_LOSS = 'loss';
export const groupOutput = (g: LossGroup): string => `group:${g}`;
export const gradOutput = (input: string): string => `grad:${input}`;

export interface InputObjective {
  /** Outputs `loss`, `group:<g>` for each group present, `grad:<input>`. */
  readonly program: IrProgram;
  /** The trainable input (now a feed of the program). */
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  /** Every other feed (content and style images), with shapes. */
  readonly feeds: ReadonlyMap<string, readonly number[]>;
  /** Parameters the program reads (frozen weights), with PyTorch-layout shapes. */
  readonly params: ReadonlyMap<string, readonly number[]>;
  /** Each group's weight in the model as written: J = sum over groups of weight * J_group + rest. */
  readonly groupWeights: ReadonlyMap<LossGroup, number>;
}

/**
 * A group's terms share its total weight: J_group = sum(w_i v_i) / sum(w_i), so the course's
 * `beta * (0.2 * style(...) + ...)` gives J_style = the 0.2-weighted sum and weight beta.
 */
function groupWeight(terms: readonly LossTerm[], group: LossGroup): number {
  return terms.filter((t) => t.fn === group).reduce((sum, t) => sum + t.weight, 0);
}

/**
 * Rewrites the loss so each group's total weight is `weights[group]` (alpha, beta), keeping the
 * ratios between a group's terms. A group the model lacks cannot be weighted.
 */
export function reweightLoss(graph: ModelGraph, weights: Partial<Record<LossGroup, number>>): ModelGraph {
  const scale = new Map<string, number>();
  for (const group of LOSS_GROUPS) {
    const want = weights[group];
    if (want === undefined) continue;
    const have = groupWeight(graph.loss, group);
    if (have === 0) throw new ProgramRequestError(`model ${graph.name} has no ${group} loss term to weight`);
    scale.set(group, want / have);
  }
  return { ...graph, loss: graph.loss.map((t) => ({ ...t, weight: t.weight * (scale.get(t.fn) ?? 1) })) };
}

/** The model's one trainable input, or an error naming what it has. */
function trainableInput(graph: ModelGraph): { name: string } {
  const inputs = graph.inputs.filter((i) => i.trainable);
  if (inputs.length !== 1) {
    throw new ProgramRequestError(`model ${graph.name} needs exactly one trainable input to optimise (\`input NAME: H x W x C trainable\`), it has ${inputs.length}`);
  }
  return inputs[0]!;
}

export function buildInputObjective(graph: ModelGraph): InputObjective {
  const target = trainableInput(graph);
  const lowered = lowerModel(graph, { batch: 1, mode: 'eval' });
  if (lowered.loss === undefined) throw new ProgramRequestError(`model ${graph.name} declares no loss`);
  const b = lowered.builder;
  const inputNode = lowered.values.get(target.name)!;
  const grad = gradients(b, lowered.loss, [inputNode]).get(inputNode)!;
  const outputs = new Map<string, number>([[OBJECTIVE_LOSS, lowered.loss]]);
  const groupWeights = new Map<LossGroup, number>();
  for (const group of LOSS_GROUPS) {
    const total = groupWeight(graph.loss, group);
    if (total === 0) continue;
    let sum: number | undefined;
    graph.loss.forEach((term, i) => {
      if (term.fn !== group) return;
      const part = b.affine(lowered.terms[i]!, term.weight / total, 0);
      sum = sum === undefined ? part : b.binary('add', sum, part);
    });
    outputs.set(groupOutput(group), sum!);
    groupWeights.set(group, total);
  }
  outputs.set(gradOutput(target.name), grad);
  // The input becomes a feed: the caller owns its value (and its optimiser) between runs.
  const nodes: IrNode[] = b.nodes.map((n) => (n.id === inputNode ? { ...n, attrs: { op: 'leaf', name: target.name, role: 'feed' } } : n));
  const program = pruneProgram({ nodes, outputs, updates: [] });
  const params = new Map([...lowered.persistent].filter(([name]) => name !== target.name));
  return { program, input: { name: target.name, shape: b.shape(inputNode) }, feeds: lowered.feeds, params, groupWeights };
}
