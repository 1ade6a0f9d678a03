// Checks a program's structural invariants: ids, topological order, input counts per op, equal
// shapes where an op needs them, outputs and updates in range and update shapes matching leaves.
// Returns the problems found (empty when the program is well formed).

import type { OpName } from './ops.ts';
import { sizeOf } from './ops.ts';
import type { IrProgram } from './program.ts';

/** Number of inputs per op; `-1` means one or more. */
export const ARITY: { readonly [K in OpName]: number } = {
  leaf: 0, const: 0, unary: 1, unary_grad: 2, binary: 2, affine: 1, axpby: 2, reduce: 1, expand: 1,
  bias_add: 2, matmul: 2, conv: 2, conv_grad_input: 2, conv_grad_weight: 2, pool: 1, pool_grad: 2,
  batchnorm: 5, batchnorm_train: 3, batchnorm_train_grad_x: 3, batchnorm_train_grad_gamma: 2,
  l2_normalize: 1, l2_normalize_grad: 2, softmax: 1, softmax_grad: 2, softmax_cross_entropy: 2,
  softmax_cross_entropy_grad: 3, one_hot: 1, reshape: 1, concat: -1, slice: 1, pad: 1,
  space_to_depth: 1, depth_to_space: 1, upsample: 1, upsample_grad: 1, dropout_mask: 1,
  lr_schedule: 1, sgd_apply: 3, rmsprop_apply: 4, adam_apply: 5,
};

/** Ops whose inputs (all, or the listed positions) have the output's shape. */
const SAME_SHAPE: Partial<Record<OpName, readonly number[]>> = {
  unary: [0], unary_grad: [0, 1], binary: [0, 1], affine: [0], axpby: [0, 1], bias_add: [0],
  softmax: [0], softmax_grad: [0, 1], l2_normalize: [0], l2_normalize_grad: [0, 1],
  batchnorm: [0], batchnorm_train: [0], batchnorm_train_grad_x: [0, 1], sgd_apply: [0, 1],
  rmsprop_apply: [0, 1, 2], adam_apply: [0, 1, 2], pool_grad: [1], reshape: [],
};

export function verifyProgram(program: IrProgram): string[] {
  const problems: string[] = [];
  const { nodes } = program;
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  nodes.forEach((n, i) => {
    const where = `node ${i} (${n.attrs.op})`;
    if (n.id !== i) problems.push(`${where}: id ${n.id}`);
    const arity = ARITY[n.attrs.op];
    if (arity >= 0 ? n.inputs.length !== arity : n.inputs.length < 1) problems.push(`${where}: ${n.inputs.length} inputs, expected ${arity < 0 ? 'at least 1' : arity}`);
    for (const j of n.inputs) if (!(j >= 0 && j < i)) problems.push(`${where}: input ${j} is not an earlier node`);
    for (const k of SAME_SHAPE[n.attrs.op] ?? []) {
      const s = nodes[n.inputs[k]!]?.shape;
      if (s && fmt(s) !== fmt(n.shape)) problems.push(`${where}: input ${k} has shape ${fmt(s)}, output ${fmt(n.shape)}`);
    }
    if (n.attrs.op === 'reshape') {
      const s = nodes[n.inputs[0]!]?.shape;
      if (s && sizeOf(s) !== sizeOf(n.shape)) problems.push(`${where}: ${fmt(s)} to ${fmt(n.shape)} changes the size`);
    }
  });
  for (const [name, id] of program.outputs) if (!nodes[id]) problems.push(`output ${name}: no node ${id}`);
  for (const u of program.updates) {
    const v = nodes[u.value];
    const leaf = nodes.find((n) => n.attrs.op === 'leaf' && n.attrs.name === u.name);
    if (!v) problems.push(`update ${u.name}: no node ${u.value}`);
    else if (leaf && fmt(leaf.shape) !== fmt(v.shape)) problems.push(`update ${u.name}: value ${fmt(v.shape)} for leaf ${fmt(leaf.shape)}`);
  }
  return problems;
}
