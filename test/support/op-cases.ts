// Every IR op, forward and backward, as small programs with odd sizes that do not divide tile or
// vector widths: the cases each back end's op test runs against the CPU reference.

import type { UnaryFn } from '../../compiler/ir/ops.ts';
import type { GraphBuilder } from '../../compiler/ir/build.ts';

export type Build = (b: GraphBuilder) => Record<string, number>;

const conv2 = { rank: 2 as const, stride: [2, 1], padBefore: [1, 0], padAfter: [1, 2], dilation: [1, 2] };
const conv1 = { rank: 1 as const, stride: [3], padBefore: [2], padAfter: [1], dilation: [2] };
// Stride 1: input gradients run as a convolution of dY with the flipped kernel where a back end can.
const conv2s1 = { rank: 2 as const, stride: [1, 1], padBefore: [2, 0], padAfter: [1, 1], dilation: [2, 1] };
const conv3 = { rank: 3 as const, stride: [1, 2, 1], padBefore: [1, 1, 0], padAfter: [0, 1, 1], dilation: [1, 1, 2] };
const pool2 = { rank: 2 as const, kernel: [3, 2], stride: [2, 2], padBefore: [1, 0], padAfter: [1, 1] };

const UNARY: UnaryFn[] = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'square', 'abs', 'sign', 'relu', 'leaky_relu', 'tanh', 'sigmoid', 'softplus', 'step'];
const POSITIVE = new Set<UnaryFn>(['log', 'sqrt', 'rsqrt']);

export const OP_CASES: [string, Build][] = [
  ...UNARY.map((fn): [string, Build] => [`unary ${fn} and its gradient`, (b) => {
    const x = b.leaf(POSITIVE.has(fn) ? 'posx' : 'x', 'feed', [3, 5, 7]);
    const dy = b.leaf('dy', 'feed', [3, 5, 7]);
    return { y: b.unary(fn, x, 0.1), dx: b.unaryGrad(fn, dy, x, 0.1) };
  }]),
  ...(['add', 'sub', 'mul', 'div', 'max', 'min'] as const).map((fn): [string, Build] => [`binary ${fn}`, (b) => {
    const x = b.leaf('x', 'feed', [37]);
    return { y: b.binary(fn, x, b.leaf(fn === 'div' ? 'posy' : 'y', 'feed', [37])) };
  }]),
  ['affine, axpby, consts', (b) => {
    const x = b.leaf('x', 'feed', [4, 9]);
    const y = b.leaf('y', 'feed', [4, 9]);
    return { a: b.affine(x, -2.5, 0.25), z: b.axpby(0.9, x, 0.1, y), c: b.binary('mul', x, b.constant(3, [4, 9])), k: b.constant(1.5, [2, 3]) };
  }],
  ['reduce sum/mean/var over several axis sets', (b) => {
    const x = b.leaf('x', 'feed', [3, 4, 5, 6]);
    return { s: b.reduce('sum', x, [0, 2, 3]), m: b.reduce('mean', x, [1]), v: b.reduce('var', x, [0, 2]), all: b.reduce('sum', x, [0, 1, 2, 3]) };
  }],
  ['expand and bias_add (4D and 2D)', (b) => {
    const x = b.leaf('x', 'feed', [2, 5, 3, 3]);
    const v = b.leaf('v', 'param', [5]);
    const d = b.leaf('d', 'feed', [3, 5]);
    return { e: b.perChannel(v, [2, 5, 3, 3]), y: b.biasAdd(x, v), z: b.biasAdd(d, v) };
  }],
  ...([[false, false], [true, false], [false, true], [true, true]] as const).map(([ta, tb]): [string, Build] => [`matmul transA=${ta} transB=${tb}, odd sizes`, (b) => {
    const [m, k, p] = [7, 9, 13];
    const a = b.leaf('a', 'feed', ta ? [k, m] : [m, k]);
    const c = b.leaf('c', 'feed', tb ? [p, k] : [k, p]);
    return { y: b.matmul(a, c, ta, tb) };
  }]),
  ['batched matmul', (b) => ({ y: b.matmul(b.leaf('a', 'feed', [3, 5, 6]), b.leaf('c', 'feed', [3, 6, 11])) })],
  ...([['1d', [2, 3, 17], [5, 3, 3], conv1], ['2d', [3, 3, 9, 7], [5, 3, 3, 2], conv2], ['2d stride 1', [2, 3, 8, 7], [4, 3, 3, 2], conv2s1], ['3d', [2, 2, 5, 6, 7], [3, 2, 2, 3, 2], conv3]] as const).map(
    ([name, xs, ws, a]): [string, Build] => [`conv ${name} forward, input and weight gradients`, (b) => {
      const x = b.leaf('x', 'feed', xs);
      const w = b.leaf('w', 'param', ws);
      const y = b.conv(x, w, a);
      const dy = b.leaf('dy', 'feed', b.shape(y));
      return {
        y,
        dx: b.add({ op: 'conv_grad_input', ...a }, [dy, w], xs),
        dw: b.add({ op: 'conv_grad_weight', ...a }, [x, dy], ws),
      };
    }],
  ),
  ...(['max', 'avg'] as const).flatMap((mode) => ([
    ['2d', pool2, [2, 3, 9, 8]],
    ['1d', { rank: 1 as const, kernel: [3], stride: [2], padBefore: [1], padAfter: [1] }, [2, 3, 10]],
    ['3d', { rank: 3 as const, kernel: [2, 2, 3], stride: [1, 2, 2], padBefore: [0, 1, 1], padAfter: [0, 0, 1] }, [1, 2, 4, 5, 6]],
    // Windows that tile x exactly: the gradient runs one invocation per window.
    ['2d tiling', { rank: 2 as const, kernel: [2, 3], stride: [2, 3], padBefore: [0, 0], padAfter: [0, 0] }, [2, 3, 8, 9]],
  ] as const).map(
    ([r, a, xs]): [string, Build] => [`pool ${mode} ${r} and its gradient`, (b) => {
      const x = b.leaf('x', 'feed', xs);
      const y = b.pool(x, { ...a, mode });
      const dy = b.leaf('dy', 'feed', b.shape(y));
      return { y, dx: b.add({ op: 'pool_grad', ...a, mode }, [dy, x], xs) };
    }],
  )),
  ['batchnorm inference and training, with gradients', (b) => {
    const s = [4, 3, 5, 3];
    const x = b.leaf('x', 'feed', s);
    const dy = b.leaf('dy', 'feed', s);
    const [m, v, g, be] = [b.leaf('m', 'state', [3]), b.leaf('posv', 'state', [3]), b.leaf('g', 'param', [3]), b.leaf('be', 'param', [3])];
    return {
      inf: b.add({ op: 'batchnorm', eps: 1e-5 }, [x, m, v, g, be], s),
      tr: b.add({ op: 'batchnorm_train', eps: 1e-5 }, [x, g, be], s),
      dx: b.add({ op: 'batchnorm_train_grad_x', eps: 1e-5 }, [dy, x, g], s),
      dg: b.add({ op: 'batchnorm_train_grad_gamma', eps: 1e-5 }, [dy, x], [3]),
    };
  }],
  ['softmax, l2_normalize and their gradients', (b) => {
    const x = b.leaf('x', 'feed', [3, 7, 2]);
    const dy = b.leaf('dy', 'feed', [3, 7, 2]);
    const sm = b.add({ op: 'softmax', axis: 1 }, [x], [3, 7, 2]);
    return {
      sm,
      dsm: b.add({ op: 'softmax_grad', axis: 1 }, [dy, sm], [3, 7, 2]),
      l2: b.add({ op: 'l2_normalize', axis: 2, eps: 1e-12 }, [x], [3, 7, 2]),
      dl2: b.add({ op: 'l2_normalize_grad', axis: 1, eps: 1e-12 }, [dy, x], [3, 7, 2]),
    };
  }],
  ['softmax cross-entropy, its gradient, one_hot', (b) => {
    const logits = b.leaf('x', 'feed', [5, 11]);
    const labels = b.leaf('labels', 'feed', [5]);
    const t = b.add({ op: 'one_hot', classes: 11 }, [labels], [5, 11]);
    const loss = b.add({ op: 'softmax_cross_entropy' }, [logits, t], [5]);
    const dl = b.leaf('dl', 'feed', [5]);
    return { t, loss, g: b.add({ op: 'softmax_cross_entropy_grad' }, [dl, logits, t], [5, 11]) };
  }],
  ['reshape, concat, slice, pad', (b) => {
    const x = b.leaf('x', 'feed', [2, 3, 4, 5]);
    const y = b.leaf('y', 'feed', [2, 2, 4, 5]);
    const r = b.reshape(x, [2, 60]);
    return { r: b.unary('relu', r), c: b.concat([x, y, x], 1), s: b.slice(x, [1, 1, 0, 2], [1, 2, 3, 3]), p: b.pad(x, [1, 0], [2, 3]) };
  }],
  ['space_to_depth, depth_to_space, upsample and its gradient', (b) => {
    const x = b.leaf('x', 'feed', [2, 3, 4, 6]);
    const s2d = b.add({ op: 'space_to_depth', block: 2 }, [x], [2, 12, 2, 3]);
    const up = b.add({ op: 'upsample', scale: [2, 3] }, [x], [2, 3, 8, 18]);
    const dy = b.leaf('dy', 'feed', [2, 3, 8, 18]);
    return { s2d, d2s: b.add({ op: 'depth_to_space', block: 2 }, [s2d], [2, 3, 4, 6]), up, dup: b.add({ op: 'upsample_grad', scale: [2, 3] }, [dy], [2, 3, 4, 6]) };
  }],
  ['dropout_mask and lr schedules', (b) => {
    const seed = b.constant(12345, []);
    const step = b.constant(7, []);
    const sched = (kind: 'constant' | 'step' | 'cosine'): number =>
      b.add({ op: 'lr_schedule', kind, base: 0.1, stepSize: 3, gamma: 0.5, totalSteps: 20, minLr: 0.001 }, [step], []);
    return { mask: b.add({ op: 'dropout_mask', rate: 0.3, salt: 5 }, [seed], [3, 4, 5]), c: sched('constant'), s: sched('step'), cos: sched('cosine') };
  }],
  ['optimizer updates (sgd, rmsprop, adam)', (b) => {
    const p = b.leaf('p', 'param', [3, 5]);
    const g = b.leaf('g', 'feed', [3, 5]);
    const v = b.leaf('posv', 'state', [3, 5]);
    const m = b.leaf('m', 'state', [3, 5]);
    const lr = b.leaf('poslr', 'feed', []);
    const t = b.constant(3, []);
    return {
      sgd: b.add({ op: 'sgd_apply' }, [p, g, lr], [3, 5]),
      rms: b.add({ op: 'rmsprop_apply', eps: 1e-8 }, [p, g, v, lr], [3, 5]),
      adam: b.add({ op: 'adam_apply', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, [p, m, v, lr, t], [3, 5]),
    };
  }],
];
