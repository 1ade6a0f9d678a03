// The kernel IR's op set: what one kernel (before fusion adds an epilogue) computes. Most IR ops
// map to one kernel op of the same name; training batchnorm, large convolution gradients and
// views do not (lower-kernels.ts replaces them), and a few ops exist only here. Every back end
// implements exactly these; the traits table says which are tiled and which fuse.

import type { ConvOpAttrs, OpAttrs } from '../ir/ops.ts';
import { OP_TRAITS, type OpKind, type OpsOfKind } from '../ir/traits.ts';

/** IR ops that never reach a kernel as themselves: leaves and views need none, the rest are split. */
type LoweredAway = 'leaf' | 'reshape' | 'batchnorm_train' | 'batchnorm_train_grad_x';

/** Kernel ops that are not IR ops: the pieces the IR ops above are split into. */
export type SplitKernelAttrs =
  /** inputs [x]; out [2, C]: mean, biased variance per channel (axis 1). */
  | { readonly op: 'bn_stats' }
  /** inputs [dy, x]; out [4, C]: mean(x), var(x), mean(dy), mean(dy * xhat) per channel. */
  | { readonly op: 'bn_grad_stats'; readonly eps: number }
  /** inputs [x, gamma, beta, stats]: training batchnorm from precomputed stats. */
  | { readonly op: 'bn_apply'; readonly eps: number }
  /** inputs [dy, x, gamma, stats4]: batchnorm_train_grad_x from precomputed stats. */
  | { readonly op: 'bn_grad_x_apply'; readonly eps: number }
  /** Tiled, inputs [x, dy]; out [splits, ...w]: conv_grad_weight over slices of (n, position). */
  | (Omit<ConvOpAttrs, 'op'> & { readonly op: 'conv_grad_weight_split'; readonly splits: number })
  /** inputs [parts]; out parts' shape without its leading `splits` axis: their sum. */
  | { readonly op: 'sum_splits'; readonly splits: number }
  /** Tiled, inputs [dy, w]; out [ci * kernel size, n * output positions]: W^T dy per column. */
  | (Omit<ConvOpAttrs, 'op'> & { readonly op: 'conv_grad_columns' })
  /** inputs [columns]; out x's shape: each element's sum over the taps that reach it. */
  | (Omit<ConvOpAttrs, 'op'> & { readonly op: 'col2im'; readonly kernel: readonly number[]; readonly outSpatial: readonly number[] });

export type KernelAttrs = Exclude<OpAttrs, { readonly op: LoweredAway }> | SplitKernelAttrs;

export type KernelOpName = KernelAttrs['op'];

/** How each kernel-only op computes an element (see OpKind); IR ops keep their own row's kind. */
const SPLIT_KINDS = {
  bn_stats: 'reduction',
  bn_grad_stats: 'reduction',
  bn_apply: 'reduction',
  bn_grad_x_apply: 'reduction',
  conv_grad_weight_split: 'tiled',
  sum_splits: 'reduction',
  conv_grad_columns: 'tiled',
  col2im: 'reduction',
} as const satisfies { readonly [K in SplitKernelAttrs['op']]: OpKind };

type SplitOfKind<Kind extends OpKind> = { [K in keyof typeof SPLIT_KINDS]: (typeof SPLIT_KINDS)[K] extends Kind ? K : never }[keyof typeof SPLIT_KINDS];

function kernelKind(attrs: KernelAttrs): OpKind {
  return Object.hasOwn(SPLIT_KINDS, attrs.op) ? SPLIT_KINDS[attrs.op as SplitKernelAttrs['op']] : OP_TRAITS[attrs.op as Exclude<KernelOpName, SplitKernelAttrs['op']>].kind;
}

export type TiledAttrs = Extract<KernelAttrs, { readonly op: OpsOfKind<'tiled'> | SplitOfKind<'tiled'> }>;

export function isTiled(attrs: KernelAttrs): attrs is TiledAttrs {
  return kernelKind(attrs) === 'tiled';
}
