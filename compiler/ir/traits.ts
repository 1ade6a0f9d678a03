// What every op is, as one row per op: how many inputs it takes, which of them have its shape, and
// how an output element depends on its inputs. The verifier, lowering to kernels and fusion read
// these rows only; the table is keyed by op name, so a new op without a row does not type-check.

import type { AttrsOf, OpName } from './ops.ts';

/**
 * How one output element depends on the inputs:
 * - `source`: no inputs (leaf, const).
 * - `view`: the same elements under another shape (shares its input's buffer).
 * - `elementwise`: element i reads element i of full-shape inputs, scalars ([]) and per-channel
 *   vectors at the channel of i (`channelInputs`); fusable into another kernel's epilogue.
 * - `tiled`: a matrix product (one tiled GEMM kernel).
 * - `reduction`: each element loops over many input elements (reduce, softmax, pooling, batch
 *   statistics, losses).
 * - `indexed`: each element reads inputs at positions computed from its index, or none (data
 *   movement, one-hot, dropout masks, the learning-rate schedule).
 */
export type OpKind = 'source' | 'view' | 'elementwise' | 'tiled' | 'reduction' | 'indexed';

export interface OpTraits {
  /** Number of inputs; `variadic` means one or more. */
  readonly arity: number | 'variadic';
  /** Input positions whose shape equals the output's. */
  readonly sameShape: readonly number[];
  readonly kind: OpKind;
  /** Inputs of an elementwise op that are per-channel [C] vectors, read at the channel (axis 1) of i. */
  readonly channelInputs: readonly number[];
}

const row = <K extends OpKind>(kind: K, arity: number | 'variadic', sameShape: readonly number[] = [], channelInputs: readonly number[] = []): OpTraits & { readonly kind: K } => ({ kind, arity, sameShape, channelInputs });

export const OP_TRAITS = {
  leaf: row('source', 0),
  const: row('source', 0),

  unary: row('elementwise', 1, [0]),
  unary_grad: row('elementwise', 2, [0, 1]),
  binary: row('elementwise', 2, [0, 1]),
  affine: row('elementwise', 1, [0]),
  axpby: row('elementwise', 2, [0, 1]),

  reduce: row('reduction', 1),
  expand: row('indexed', 1),
  bias_add: row('elementwise', 2, [0], [1]),

  matmul: row('tiled', 2),
  conv: row('tiled', 2),
  conv_grad_input: row('tiled', 2),
  conv_grad_weight: row('tiled', 2),

  pool: row('reduction', 1),
  pool_grad: row('reduction', 2, [1]),

  batchnorm: row('elementwise', 5, [0], [1, 2, 3, 4]),
  batchnorm_train: row('reduction', 3, [0]),
  batchnorm_train_grad_x: row('reduction', 3, [0, 1]),
  batchnorm_train_grad_gamma: row('reduction', 2),
  l2_normalize: row('reduction', 1, [0]),
  l2_normalize_grad: row('reduction', 2, [0, 1]),
  softmax: row('reduction', 1, [0]),
  softmax_grad: row('reduction', 2, [0, 1]),

  softmax_cross_entropy: row('reduction', 2),
  softmax_cross_entropy_grad: row('reduction', 3),
  one_hot: row('indexed', 1),

  reshape: row('view', 1),
  concat: row('indexed', 'variadic'),
  slice: row('indexed', 1),
  pad: row('indexed', 1),
  space_to_depth: row('indexed', 1),
  depth_to_space: row('indexed', 1),
  upsample: row('indexed', 1),
  upsample_grad: row('reduction', 1),

  dropout_mask: row('indexed', 1),

  lr_schedule: row('indexed', 1),
  sgd_apply: row('elementwise', 3, [0, 1]),
  rmsprop_apply: row('elementwise', 4, [0, 1, 2]),
  adam_apply: row('elementwise', 5, [0, 1, 2]),
} as const satisfies { readonly [K in OpName]: OpTraits };

/** The ops of one kind, as a type: `OpsOfKind<'elementwise'>`. */
export type OpsOfKind<Kind extends OpKind> = { [K in OpName]: (typeof OP_TRAITS)[K]['kind'] extends Kind ? K : never }[OpName];

export type ElementwiseAttrs = AttrsOf<OpsOfKind<'elementwise'>>;

export function isElementwise(attrs: { readonly op: string }): attrs is ElementwiseAttrs {
  return Object.hasOwn(OP_TRAITS, attrs.op) && OP_TRAITS[attrs.op as OpName].kind === 'elementwise';
}

/** Which inputs of an elementwise op are per-channel vectors (none for any other op). */
export function channelInputs(op: string): readonly number[] {
  return Object.hasOwn(OP_TRAITS, op) ? OP_TRAITS[op as OpName].channelInputs : [];
}

/** Every op name, from the table (so the list cannot miss one). */
export const OP_NAMES = Object.keys(OP_TRAITS) as OpName[];
