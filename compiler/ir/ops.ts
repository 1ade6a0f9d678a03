// The op IR: every op the lowered forward, backward and optimizer graphs use, with attributes and
// exact semantics. Backends (CPU reference in runtime/reference, WGSL kernels) implement exactly
// these; each op is coarse enough to be one kernel.
//
// Conventions shared by all ops:
// - Every tensor is float32, row-major (last axis fastest), with a static shape. Class labels and
//   seeds are carried as f32 holding exact integers (< 2^24).
// - Activations use PyTorch's layout: [N, C, L] (1D), [N, C, H, W] (2D), [N, C, D, H, W] (3D),
//   vectors [N, F]. "Spatial axes" are axes 2.. of such a tensor; "rank" is their count (1..3).
// - Conv weights are [O, I, ...K] (OIL / OIHW / OIDHW), dense weights [out, in].
// - A node's output shape is stored on the node (`IrNode.shape`); attrs never repeat it.
// - Inputs are listed as `inputs: [a, b, ...]` in the order given in each op's comment.
// - Scalars have shape [] and hold one element.

/** Unary elementwise functions. `leaky_relu` reads `alpha`. */
export type UnaryFn =
  | 'neg'
  | 'exp'
  | 'log' // natural log; log(0) = -Infinity (no clamping)
  | 'sqrt'
  | 'rsqrt' // 1 / sqrt(x)
  | 'square'
  | 'abs'
  | 'sign' // -1, 0, 1
  | 'relu' // max(x, 0)
  | 'leaky_relu' // x > 0 ? x : alpha * x
  | 'tanh'
  | 'sigmoid' // 1 / (1 + exp(-x))
  | 'softplus' // log(1 + exp(x)), as max(x, 0) + log1p(exp(-|x|)): exact where exp(x) saturates
  | 'step'; // x > 0 ? 1 : 0

/** Binary elementwise functions over two tensors of identical shape. */
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

/** Reductions. `var` is the biased (population) variance: mean((x - mean(x))^2). */
export type ReduceFn = 'sum' | 'mean' | 'var';

/** Where a leaf tensor comes from. */
export type LeafRole =
  /** Supplied with each batch: images, labels, targets, the dropout seed. */
  | 'feed'
  /** A model parameter (`<layer>.weight`, ...), trainable or not; also a trainable input. */
  | 'param'
  /** Persistent non-parameter state: running statistics, optimizer slots, the step counter. */
  | 'state';

export type LrScheduleKind = 'constant' | 'step' | 'cosine';

/**
 * The op set as a discriminated union on `op`. Each member's fields are the op's attributes.
 * Gradients named `*_grad*` are the backward ops autodiff emits.
 */
export type OpAttrs =
  // ---- leaves --------------------------------------------------------------------------------
  /** A named leaf tensor (no inputs). Its value comes from outside the graph (see LeafRole). */
  | { readonly op: 'leaf'; readonly name: string; readonly role: LeafRole }
  /** A tensor filled with `value` (no inputs). */
  | { readonly op: 'const'; readonly value: number }

  // ---- elementwise ---------------------------------------------------------------------------
  /** inputs [x]: y = fn(x) elementwise. `alpha` is read by leaky_relu only (0 otherwise). */
  | { readonly op: 'unary'; readonly fn: UnaryFn; readonly alpha: number }
  /**
   * inputs [dy, x]: dx = dy * fn'(x) elementwise, the derivative taken at the forward input x.
   * relu' = x > 0 ? 1 : 0; leaky_relu' = x > 0 ? 1 : alpha; tanh' = 1 - tanh(x)^2;
   * sigmoid' = s(1 - s); exp' = exp(x); log' = 1/x; sqrt' = 0.5/sqrt(x); rsqrt' = -0.5 x^-1.5;
   * square' = 2x; abs' = sign(x); neg' = -1; sign' = step' = 0.
   */
  | { readonly op: 'unary_grad'; readonly fn: UnaryFn; readonly alpha: number }
  /** inputs [a, b] of identical shape: y = fn(a, b). For max/min the gradient goes to a on ties. */
  | { readonly op: 'binary'; readonly fn: BinaryFn }
  /** inputs [x]: y = x * mul + add (scalars known at compile time). */
  | { readonly op: 'affine'; readonly mul: number; readonly add: number }
  /** inputs [x, y] of identical shape: z = a * x + b * y. EMAs, momentum, weight decay. */
  | { readonly op: 'axpby'; readonly a: number; readonly b: number }

  // ---- broadcasting and reductions -----------------------------------------------------------
  /**
   * inputs [x]: reduce over `axes` (sorted, distinct); the output shape is the input's with those
   * axes removed (reducing every axis gives a scalar []).
   */
  | { readonly op: 'reduce'; readonly fn: ReduceFn; readonly axes: readonly number[] }
  /**
   * inputs [x]: broadcast x to the node's shape by inserting `axes` (axes of the OUTPUT, sorted):
   * x's shape is the output shape with those axes removed. The adjoint of reduce-sum.
   * E.g. a per-channel [C] vector to [N, C, H, W] has axes [0, 2, 3].
   */
  | { readonly op: 'expand'; readonly axes: readonly number[] }
  /**
   * inputs [x, b]: y[n, c, ...] = x[n, c, ...] + b[c]. Bias of conv (any rank) and dense ([N, F]).
   */
  | { readonly op: 'bias_add' }

  // ---- linear algebra ------------------------------------------------------------------------
  /**
   * inputs [a, b]: matrix product op(a) @ op(b), op = transpose of the last two axes when the
   * flag is set. Rank 2 ([M, K] @ [K, P] -> [M, P]) or rank 3 with an equal leading batch axis
   * ([B, M, K] @ [B, K, P] -> [B, M, P]). Dense forward is matmul(x, W, transB = true).
   */
  | { readonly op: 'matmul'; readonly transA: boolean; readonly transB: boolean }
  /**
   * inputs [x, w]: cross-correlation (PyTorch convNd, groups = 1, no bias). x [N, Ci, ...S],
   * w [Co, Ci, ...K], y [N, Co, ...O] with
   *   y[n, o, p] = sum_{i, k} x[n, i, p * stride - padBefore + k * dilation] * w[o, i, k]
   * over each spatial axis, reading 0 outside x. padAfter only decides O (already in the shape):
   *   O = floor((S + padBefore + padAfter - dilation * (K - 1) - 1) / stride) + 1.
   */
  | ConvOpAttrs
  /**
   * inputs [dy, w]: gradient of conv wrt x; the node's shape is x's shape (needed because
   * several input sizes give one output size when the stride does not divide evenly; rows and
   * columns never read by the forward pass get 0).
   */
  | (Omit<ConvOpAttrs, 'op'> & { readonly op: 'conv_grad_input' })
  /** inputs [x, dy]: gradient of conv wrt w; the node's shape is w's shape. */
  | (Omit<ConvOpAttrs, 'op'> & { readonly op: 'conv_grad_weight' })

  // ---- pooling -------------------------------------------------------------------------------
  /**
   * inputs [x]: window pooling over the spatial axes with the window at p * stride - padBefore,
   * size `kernel` (no dilation). Elements outside x are ignored: max takes the max of in-bounds
   * elements; avg divides the in-bounds sum by the in-bounds count (padding excluded, PyTorch
   * count_include_pad = False). Output size is in the node's shape (floor or ceil mode was
   * decided by lowering; every window holds at least one in-bounds element).
   * Global pools lower to reduce-mean (avg) or to this op with kernel = the spatial size (max).
   */
  | PoolOpAttrs
  /**
   * inputs [dy, x]: gradient of pool wrt x (node shape = x's shape). avg: each window spreads
   * dy / count to its in-bounds elements. max: all of dy goes to the FIRST maximum of the window
   * in row-major window order (same element as the forward pass picks). Overlapping windows add.
   */
  | (Omit<PoolOpAttrs, 'op'> & { readonly op: 'pool_grad' })

  // ---- normalisation -------------------------------------------------------------------------
  /**
   * inputs [x, mean, var, gamma, beta] (the last four [C]): inference-mode batchnorm over axis 1,
   *   y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c].
   * Its gradients are composed from elementwise ops and reductions.
   */
  | { readonly op: 'batchnorm'; readonly eps: number }
  /**
   * inputs [x, gamma, beta]: training-mode batchnorm using the batch statistics over every axis
   * but 1 (mean and BIASED variance, as PyTorch normalises), same formula as `batchnorm`.
   * The running-average update is separate: reduce mean / var, then axpby (unbiased var by n/(n-1)).
   */
  | { readonly op: 'batchnorm_train'; readonly eps: number }
  /**
   * inputs [dy, x, gamma]: gradient of batchnorm_train wrt x, including the paths through the
   * batch mean and variance. With m = count per channel, xhat = (x - mean) / sqrt(var + eps):
   *   dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))   (means per channel)
   */
  | { readonly op: 'batchnorm_train_grad_x'; readonly eps: number }
  /**
   * inputs [dy, x]: gradient of batchnorm_train wrt gamma, [C]: sum over all axes but 1 of
   * dy * xhat (xhat from batch statistics). The beta gradient is reduce-sum of dy.
   */
  | { readonly op: 'batchnorm_train_grad_gamma'; readonly eps: number }
  /**
   * inputs [x]: y = x / max(||x||_2, eps) with the norm over `axis` (PyTorch F.normalize).
   */
  | { readonly op: 'l2_normalize'; readonly axis: number; readonly eps: number }
  /**
   * inputs [dy, x]: gradient of l2_normalize. With n = ||x||, y = x / n:
   * dx = (dy - y * sum(dy * y)) / n when n > eps, else dy / eps (sums over `axis`).
   */
  | { readonly op: 'l2_normalize_grad'; readonly axis: number; readonly eps: number }
  /** inputs [x]: softmax over `axis`, computed as exp(x - max) / sum(exp(x - max)). */
  | { readonly op: 'softmax'; readonly axis: number }
  /** inputs [dy, y] (y = softmax output): dx = y * (dy - sum_axis(dy * y)). */
  | { readonly op: 'softmax_grad'; readonly axis: number }

  // ---- losses --------------------------------------------------------------------------------
  /**
   * inputs [logits, target], both [N, C] (target: probabilities / one-hot rows):
   * loss[n] = -sum_c target[n, c] * log_softmax(logits)[n, c]; node shape [N].
   */
  | { readonly op: 'softmax_cross_entropy' }
  /**
   * inputs [dloss, logits, target] (dloss [N]): dlogits[n, c] = dloss[n] * (softmax(logits)[n, c]
   * - target[n, c]) (assumes each target row sums to 1, true for one-hot). Node shape [N, C].
   */
  | { readonly op: 'softmax_cross_entropy_grad' }
  /**
   * inputs [labels] ([N], exact integers as f32): out [N, classes] with out[n, labels[n]] = 1.
   * A label outside [0, classes) gives a zero row (the CPU executor reports it as an error).
   */
  | { readonly op: 'one_hot'; readonly classes: number }

  // ---- data movement -------------------------------------------------------------------------
  /** inputs [x]: same elements in row-major order, new shape (PyTorch view / flatten). */
  | { readonly op: 'reshape' }
  /** inputs [x0, x1, ...]: concatenation along `axis`; all other axes equal. */
  | { readonly op: 'concat'; readonly axis: number }
  /** inputs [x]: y = x[starts[0] : starts[0] + shape[0], ...] over every axis. */
  | { readonly op: 'slice'; readonly starts: readonly number[] }
  /**
   * inputs [x]: zero padding of the SPATIAL axes (2..): `before[i]` zeros before and `after[i]`
   * after spatial axis i. The adjoint of slice.
   */
  | { readonly op: 'pad'; readonly before: readonly number[]; readonly after: readonly number[] }
  /**
   * inputs [x] [N, C, H, W] -> [N, C*b*b, H/b, W/b], TensorFlow's channel order mapped to NCHW:
   *   y[n, (dy * b + dx) * C + c, h, w] = x[n, c, h * b + dy, w * b + dx].
   */
  | { readonly op: 'space_to_depth'; readonly block: number }
  /** inputs [y]: the exact inverse of space_to_depth with the same `block` (its gradient). */
  | { readonly op: 'depth_to_space'; readonly block: number }
  /**
   * inputs [x]: nearest-neighbour upsampling of the spatial axes by integer `scale`:
   *   y[n, c, p] = x[n, c, floor(p / scale)].
   */
  | { readonly op: 'upsample'; readonly scale: readonly number[] }
  /** inputs [dy]: gradient of upsample, dx[n, c, q] = sum of dy over the scale-block of q. */
  | { readonly op: 'upsample_grad'; readonly scale: readonly number[] }

  // ---- randomness ----------------------------------------------------------------------------
  /**
   * inputs [seed] (a scalar, exact integer): a dropout mask of the node's shape with values 0 or
   * 1 / (1 - rate). Element i (row-major index) is kept iff u >= rate, where u = (h >>> 8) / 2^24,
   *   h = pcg(i + pcg(seed + pcg(salt)))   (u32 arithmetic mod 2^32, seed converted to u32)
   *   pcg(v): s = v * 747796405 + 2891336453; w = ((s >>> ((s >>> 28) + 4)) ^ s) * 277803737;
   *           return (w >>> 22) ^ w.
   * `salt` distinguishes dropout layers; `seed` changes every step (the step counter).
   */
  | { readonly op: 'dropout_mask'; readonly rate: number; readonly salt: number }

  // ---- optimizers ----------------------------------------------------------------------------
  /**
   * inputs [step] (scalar: updates already done, 0-based): the learning rate, a scalar.
   * constant: base. step: base * gamma^floor(step / stepSize).
   * cosine: minLr + (base - minLr) * (1 + cos(pi * min(step, totalSteps) / totalSteps)) / 2.
   */
  | {
      readonly op: 'lr_schedule';
      readonly kind: LrScheduleKind;
      readonly base: number;
      readonly stepSize: number;
      readonly gamma: number;
      readonly totalSteps: number;
      readonly minLr: number;
    }
  /** inputs [p, d, lr]: p' = p - lr * d (d: the gradient, or the momentum velocity). */
  | { readonly op: 'sgd_apply' }
  /** inputs [p, g, v, lr] (v already updated: v' = alpha v + (1 - alpha) g^2): p' = p - lr g / (sqrt(v) + eps). */
  | { readonly op: 'rmsprop_apply'; readonly eps: number }
  /**
   * inputs [p, m, v, lr, t] (m, v already updated by axpby; t = 1-based step count, scalar):
   *   p' = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)   (PyTorch Adam).
   */
  | { readonly op: 'adam_apply'; readonly beta1: number; readonly beta2: number; readonly eps: number };

export interface ConvOpAttrs {
  readonly op: 'conv';
  readonly rank: 1 | 2 | 3;
  readonly stride: readonly number[];
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
  readonly dilation: readonly number[];
}

export interface PoolOpAttrs {
  readonly op: 'pool';
  readonly mode: 'max' | 'avg';
  readonly rank: 1 | 2 | 3;
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
}

export type OpName = OpAttrs['op'];

/** The attrs of one op, by name: `AttrsOf<'conv'>`. */
export type AttrsOf<K extends OpName> = Extract<OpAttrs, { readonly op: K }>;

/**
 * One IR node. Nodes are immutable; `id` is the node's index in its program's node list and
 * inputs refer to earlier ids (the list is in topological order).
 */
export interface IrNode {
  readonly id: number;
  readonly attrs: OpAttrs;
  readonly inputs: readonly number[];
  readonly shape: readonly number[];
  /**
   * The model layer it was made for (lowering), or whose gradient or parameter update it computes
   * (autodiff, optimizers); `loss` for loss terms; absent for shared pieces (learning rate, step).
   */
  readonly layer?: string;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
