// Lowering of each layer kind to IR ops, one row per LayerOp.

import type { LayerNode, LayerOp, ParamSpec } from '../graph.ts';
import { allBut, IrError, type GraphBuilder } from '../ir/build.ts';
import type { IrUpdate } from '../ir/program.ts';
import { irShape, spatialAxes } from './layout.ts';

export interface LayerContext {
  readonly b: GraphBuilder;
  readonly batch: number;
  /** 'train': batch statistics, running-average updates, dropout; 'eval': running statistics, no dropout. */
  readonly mode: 'train' | 'eval';
  /** Node of a parameter by its full name, created on first use. */
  param(name: string): number;
  /** Running statistics etc.: persistent non-trainable state by name. */
  state(name: string): number;
  /** The per-step seed (a feed), for dropout. */
  seed(): number;
  /** Where running-average updates go. */
  readonly updates: IrUpdate[];
  /** The parameter specs of the layer owning `layer`'s parameters (itself, or a shared instance). */
  ownerParams(layer: LayerNode): readonly ParamSpec[];
  /** A distinct number per dropout layer. */
  salt(layer: LayerNode): number;
}

export type LayerLowering = (ctx: LayerContext, layer: LayerNode, inputs: readonly number[]) => number;

/** Full name of the parameter with `role` of a layer (its own, or its shared owner's). */
function owned(ctx: LayerContext, layer: LayerNode, role: ParamSpec['role']): string {
  const spec = ctx.ownerParams(layer).find((p) => p.role === role);
  if (!spec) throw new IrError(`layer ${layer.name} has no ${role} parameter`);
  return spec.name;
}

const unary = (fn: 'relu' | 'tanh' | 'sigmoid'): LayerLowering => (ctx, _l, [x]) => ctx.b.unary(fn, x!);

export const LAYER_LOWERING: { readonly [K in LayerOp]: LayerLowering } = {
  conv: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'conv') throw new IrError('conv');
    const a = layer.attrs;
    const w = ctx.param(owned(ctx, layer, 'weight'));
    let y = ctx.b.conv(x!, w, { rank: a.rank, stride: a.stride, padBefore: a.padBefore, padAfter: a.padAfter, dilation: a.dilation });
    if (a.bias) y = ctx.b.biasAdd(y, ctx.param(owned(ctx, layer, 'bias')));
    return y;
  },
  maxpool: (ctx, layer, [x]) => lowerPool(ctx, layer, x!),
  avgpool: (ctx, layer, [x]) => lowerPool(ctx, layer, x!),
  global_avgpool: (ctx, _layer, [x]) => ctx.b.reduce('mean', x!, spatialAxes(ctx.b.shape(x!).length)),
  global_maxpool: (ctx, _layer, [x]) => {
    const s = ctx.b.shape(x!);
    const spatial = s.slice(2);
    const rank = spatial.length as 1 | 2 | 3;
    const zeros = spatial.map(() => 0);
    const p = ctx.b.pool(x!, { mode: 'max', rank, kernel: spatial, stride: spatial.map(() => 1), padBefore: zeros, padAfter: zeros });
    return ctx.b.reshape(p, [s[0]!, s[1]!]);
  },
  dense: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'dense') throw new IrError('dense');
    if (ctx.b.shape(x!).length !== 2) throw new IrError(`dense ${layer.name}: input [${ctx.b.shape(x!).join(', ')}] is not a vector`);
    let y = ctx.b.matmul(x!, ctx.param(owned(ctx, layer, 'weight')), false, true);
    if (layer.attrs.bias) y = ctx.b.biasAdd(y, ctx.param(owned(ctx, layer, 'bias')));
    return y;
  },
  batchnorm: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'batchnorm') throw new IrError('batchnorm');
    const { eps, momentum } = layer.attrs;
    const b = ctx.b;
    const shape = b.shape(x!);
    const gamma = ctx.param(owned(ctx, layer, 'gamma'));
    const beta = ctx.param(owned(ctx, layer, 'beta'));
    const meanName = owned(ctx, layer, 'running_mean');
    const varName = owned(ctx, layer, 'running_var');
    const rm = ctx.state(meanName);
    const rv = ctx.state(varName);
    // Frozen batchnorm runs in inference mode (Keras' transfer-learning convention).
    if (ctx.mode === 'eval' || layer.frozen) return b.add({ op: 'batchnorm', eps }, [x!, rm, rv, gamma, beta], shape);
    const axes = allBut(shape.length, 1);
    const count = shape.reduce((p, d, i) => (i === 1 ? p : p * d), 1);
    const mean = b.reduce('mean', x!, axes);
    // PyTorch: normalise with the biased variance, track the unbiased one.
    const unbiased = b.affine(b.reduce('var', x!, axes), count / Math.max(1, count - 1), 0);
    if (layer.paramOwner === layer.name || !ctx.updates.some((u) => u.name === meanName)) {
      ctx.updates.push({ name: meanName, value: b.axpby(1 - momentum, rm, momentum, mean) });
      ctx.updates.push({ name: varName, value: b.axpby(1 - momentum, rv, momentum, unbiased) });
    }
    return b.add({ op: 'batchnorm_train', eps }, [x!, gamma, beta], shape);
  },
  dropout: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'dropout') throw new IrError('dropout');
    if (ctx.mode === 'eval' || layer.attrs.rate === 0) return x!;
    const shape = ctx.b.shape(x!);
    const mask = ctx.b.add({ op: 'dropout_mask', rate: layer.attrs.rate, salt: ctx.salt(layer) }, [ctx.seed()], shape);
    return ctx.b.binary('mul', x!, mask);
  },
  leaky_relu: (ctx, layer, [x]) => ctx.b.unary('leaky_relu', x!, layer.attrs.op === 'leaky_relu' ? layer.attrs.alpha : 0.01),
  relu: unary('relu'),
  tanh: unary('tanh'),
  sigmoid: unary('sigmoid'),
  softmax: (ctx, _l, [x]) => ctx.b.add({ op: 'softmax', axis: 1 }, [x!], ctx.b.shape(x!)),
  linear: (_ctx, _l, [x]) => x!,
  flatten: (ctx, _l, [x]) => {
    const s = ctx.b.shape(x!);
    return ctx.b.reshape(x!, [s[0]!, s.slice(1).reduce((p, d) => p * d, 1)]);
  },
  add: (ctx, _l, xs) => xs.slice(1).reduce((acc, x) => ctx.b.binary('add', acc, x), xs[0]!),
  subtract: (ctx, _l, [a, b]) => ctx.b.binary('sub', a!, b!),
  abs: (ctx, _l, [x]) => ctx.b.unary('abs', x!),
  concat: (ctx, _l, xs) => ctx.b.concat(xs, 1),
  l2_normalize: (ctx, _l, [x]) => ctx.b.add({ op: 'l2_normalize', axis: 1, eps: 1e-12 }, [x!], ctx.b.shape(x!)),
  reshape: (ctx, layer, [x]) => ctx.b.reshape(x!, irShape(layer.shape, ctx.batch)),
  zero_pad: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'zero_pad') throw new IrError('zero_pad');
    return ctx.b.pad(x!, layer.attrs.padBefore, layer.attrs.padAfter);
  },
  space_to_depth: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'space_to_depth') throw new IrError('space_to_depth');
    return ctx.b.add({ op: 'space_to_depth', block: layer.attrs.block }, [x!], irShape(layer.shape, ctx.batch));
  },
  upsample: (ctx, layer, [x]) => {
    if (layer.attrs.op !== 'upsample') throw new IrError('upsample');
    return ctx.b.add({ op: 'upsample', scale: layer.attrs.scale }, [x!], irShape(layer.shape, ctx.batch));
  },
};

function lowerPool(ctx: LayerContext, layer: LayerNode, x: number): number {
  if (layer.attrs.op !== 'maxpool' && layer.attrs.op !== 'avgpool') throw new IrError('pool');
  const a = layer.attrs;
  const mode = a.op === 'maxpool' ? 'max' : 'avg';
  return ctx.b.pool(x, { mode, rank: a.rank, kernel: a.kernel, stride: a.stride, padBefore: a.padBefore, padAfter: a.padAfter }, a.ceil);
}

