// Reverse-mode rules, one row per op: given the forward node and the gradient of its output,
// the gradient of each input (null where an input gets none: labels, seeds, running stats).

import type { GraphBuilder } from '../ir/build.ts';
import { allBut, IrError } from '../ir/build.ts';
import type { AttrsOf, IrNode, OpName } from '../ir/ops.ts';
import { sizeOf } from '../ir/ops.ts';

export type GradRule = (b: GraphBuilder, node: IrNode, dy: number) => readonly (number | null)[];

const at = <K extends OpName>(node: IrNode, _k: K): AttrsOf<K> => node.attrs as AttrsOf<K>;

const noGradient: GradRule = (_b, node) => {
  throw new IrError(`no gradient rule for ${node.attrs.op} (node ${node.id}); higher-order gradients are not supported`);
};

/** Zero-pads dy (shape of a slice) back to `full` along every axis, with concat and zeros. */
function unslice(b: GraphBuilder, dy: number, starts: readonly number[], full: readonly number[]): number {
  let cur = dy;
  for (let a = 0; a < full.length; a++) {
    const s = b.shape(cur);
    const before = starts[a]!;
    const after = full[a]! - before - s[a]!;
    if (before === 0 && after === 0) continue;
    const parts: number[] = [];
    const zeros = (n: number): number => b.constant(0, s.map((d, i) => (i === a ? n : d)));
    if (before > 0) parts.push(zeros(before));
    parts.push(cur);
    if (after > 0) parts.push(zeros(after));
    cur = b.concat(parts, a);
  }
  return cur;
}

export const GRAD_RULES: { readonly [K in OpName]: GradRule } = {
  leaf: () => [],
  const: () => [],

  unary: (b, n, dy) => {
    const a = at(n, 'unary');
    return [b.unaryGrad(a.fn, dy, n.inputs[0]!, a.alpha)];
  },
  unary_grad: noGradient,
  binary: (b, n, dy) => {
    const [x, y] = [n.inputs[0]!, n.inputs[1]!];
    switch (at(n, 'binary').fn) {
      case 'add': return [dy, dy];
      case 'sub': return [dy, b.unary('neg', dy)];
      case 'mul': return [b.binary('mul', dy, y), b.binary('mul', dy, x)];
      case 'div': {
        const dx = b.binary('div', dy, y);
        return [dx, b.unary('neg', b.binary('div', b.binary('mul', dy, n.id), y))];
      }
      case 'max':
      case 'min': {
        // Ties go to the first operand: mask_x = 1 - step(y - x) for max, 1 - step(x - y) for min.
        const d = at(n, 'binary').fn === 'max' ? b.binary('sub', y, x) : b.binary('sub', x, y);
        const mx = b.affine(b.unary('step', d), -1, 1);
        return [b.binary('mul', dy, mx), b.binary('mul', dy, b.affine(mx, -1, 1))];
      }
    }
  },
  affine: (b, n, dy) => [b.affine(dy, at(n, 'affine').mul, 0)],
  axpby: (b, n, dy) => [b.affine(dy, at(n, 'axpby').a, 0), b.affine(dy, at(n, 'axpby').b, 0)],

  reduce: (b, n, dy) => {
    const { fn, axes } = at(n, 'reduce');
    const x = n.inputs[0]!;
    const xs = b.shape(x);
    const count = sizeOf(xs) / sizeOf(n.shape);
    const e = b.expand(dy, axes, xs);
    if (fn === 'sum') return [e];
    if (fn === 'mean') return [b.affine(e, 1 / count, 0)];
    const centred = b.binary('sub', x, b.expand(b.reduce('mean', x, axes), axes, xs));
    return [b.affine(b.binary('mul', e, centred), 2 / count, 0)];
  },
  expand: (b, n, dy) => [b.reduce('sum', dy, at(n, 'expand').axes)],
  bias_add: (b, n, dy) => [dy, b.reduce('sum', dy, allBut(n.shape.length, 1))],

  matmul: (b, n, dy) => {
    const { transA, transB } = at(n, 'matmul');
    const [A, B] = [n.inputs[0]!, n.inputs[1]!];
    const dA = transA ? b.matmul(B, dy, transB, true) : b.matmul(dy, B, false, !transB);
    const dB = transB ? b.matmul(dy, A, true, transA) : b.matmul(A, dy, !transA, false);
    return [dA, dB];
  },
  conv: (b, n, dy) => {
    const { op: _op, ...geom } = at(n, 'conv');
    const [x, w] = [n.inputs[0]!, n.inputs[1]!];
    return [
      b.add({ op: 'conv_grad_input', ...geom }, [dy, w], b.shape(x)),
      b.add({ op: 'conv_grad_weight', ...geom }, [x, dy], b.shape(w)),
    ];
  },
  // As a layer's forward op (transposed convolution): its adjoint is the convolution itself.
  conv_grad_input: (b, n, dy) => {
    const { op: _op, ...geom } = at(n, 'conv_grad_input');
    const [x, w] = [n.inputs[0]!, n.inputs[1]!];
    return [b.conv(dy, w, geom), b.add({ op: 'conv_grad_weight', ...geom }, [dy, x], b.shape(w))];
  },
  conv_grad_weight: noGradient,
  pool: (b, n, dy) => {
    const { op: _op, ...geom } = at(n, 'pool');
    const x = n.inputs[0]!;
    return [b.add({ op: 'pool_grad', ...geom }, [dy, x], b.shape(x))];
  },
  pool_grad: noGradient,

  batchnorm: (b, n, dy) => {
    // Inference mode: mean and var are constants (running statistics); they get no gradient.
    const { eps } = at(n, 'batchnorm');
    const [x, mean, variance, gamma] = [n.inputs[0]!, n.inputs[1]!, n.inputs[2]!, n.inputs[3]!];
    const xs = b.shape(x);
    const c = b.shape(gamma);
    const inv = b.unary('rsqrt', b.affine(variance, 1, eps));
    const dx = b.binary('mul', dy, b.perChannel(b.binary('mul', gamma, inv), xs));
    const ones = b.constant(1, c);
    const zeros = b.constant(0, c);
    const xhat = b.add({ op: 'batchnorm', eps }, [x, mean, variance, ones, zeros], xs);
    const axes = allBut(xs.length, 1);
    return [dx, null, null, b.reduce('sum', b.binary('mul', dy, xhat), axes), b.reduce('sum', dy, axes)];
  },
  batchnorm_train: (b, n, dy) => {
    const { eps } = at(n, 'batchnorm_train');
    const [x, gamma] = [n.inputs[0]!, n.inputs[1]!];
    return [
      b.add({ op: 'batchnorm_train_grad_x', eps }, [dy, x, gamma], b.shape(x)),
      b.add({ op: 'batchnorm_train_grad_gamma', eps }, [dy, x], b.shape(gamma)),
      b.reduce('sum', dy, allBut(n.shape.length, 1)),
    ];
  },
  batchnorm_train_grad_x: noGradient,
  batchnorm_train_grad_gamma: noGradient,
  l2_normalize: (b, n, dy) => {
    const { axis, eps } = at(n, 'l2_normalize');
    return [b.add({ op: 'l2_normalize_grad', axis, eps }, [dy, n.inputs[0]!], n.shape)];
  },
  l2_normalize_grad: noGradient,
  softmax: (b, n, dy) => [b.add({ op: 'softmax_grad', axis: at(n, 'softmax').axis }, [dy, n.id], n.shape)],
  softmax_grad: noGradient,
  // The target is data (labels): it gets no gradient.
  softmax_cross_entropy: (b, n, dy) => [
    b.add({ op: 'softmax_cross_entropy_grad' }, [dy, n.inputs[0]!, n.inputs[1]!], b.shape(n.inputs[0]!)),
    null,
  ],
  softmax_cross_entropy_grad: noGradient,
  one_hot: () => [null],

  reshape: (b, n, dy) => [b.reshape(dy, b.shape(n.inputs[0]!))],
  concat: (b, n, dy) => {
    const axis = at(n, 'concat').axis;
    let off = 0;
    return n.inputs.map((x) => {
      const s = b.shape(x);
      const starts = s.map((_, i) => (i === axis ? off : 0));
      off += s[axis]!;
      return b.slice(dy, starts, s);
    });
  },
  slice: (b, n, dy) => [unslice(b, dy, at(n, 'slice').starts, b.shape(n.inputs[0]!))],
  pad: (b, n, dy) => {
    const x = n.inputs[0]!;
    const before = at(n, 'pad').before;
    return [b.slice(dy, [0, 0, ...before], b.shape(x))];
  },
  space_to_depth: (b, n, dy) => [
    b.add({ op: 'depth_to_space', block: at(n, 'space_to_depth').block }, [dy], b.shape(n.inputs[0]!)),
  ],
  depth_to_space: (b, n, dy) => [
    b.add({ op: 'space_to_depth', block: at(n, 'depth_to_space').block }, [dy], b.shape(n.inputs[0]!)),
  ],
  upsample: (b, n, dy) => [b.add({ op: 'upsample_grad', scale: at(n, 'upsample').scale }, [dy], b.shape(n.inputs[0]!))],
  upsample_grad: (b, n, dy) => [b.add({ op: 'upsample', scale: at(n, 'upsample_grad').scale }, [dy], b.shape(n.inputs[0]!))],
  dropout_mask: () => [null],

  lr_schedule: noGradient,
  sgd_apply: noGradient,
  rmsprop_apply: noGradient,
  adam_apply: noGradient,
};
