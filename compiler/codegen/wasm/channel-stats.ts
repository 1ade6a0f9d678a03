// Per-channel reductions in WebAssembly over a range of channels, so threads split them: batch
// statistics (mean and biased variance), the sums batchnorm's gradients need, and reductions
// whose kept axes are one contiguous run (per-channel sums over [0, 2, 3], pooled means over
// [2, 3], dense bias sums over [0]). Sums accumulate in float64 (two f32 at a time, widened), in
// two passes as the reference executor computes them. Also the per-element application of
// batchnorm's input gradient over planes (n, c), its per-channel factors computed once a plane.

import { sizeOf, type ReduceFn } from '../../ir/ops.ts';
import type { Group } from '../../passes/fuse.ts';
import { Body, type Local } from './encode.ts';

/** What a channel reduction writes for channel c of C (all float32). */
export type ChannelOutput =
  /** [mean; variance] ([2, C]). */
  | { readonly kind: 'stats' }
  /** [mean; variance; mean of dy; mean of dy * xhat] ([4, C]). */
  | { readonly kind: 'grad_stats'; readonly eps: number }
  /** Sum of dy * xhat ([C]): batchnorm's gamma gradient. */
  | { readonly kind: 'grad_gamma'; readonly eps: number }
  | { readonly kind: 'reduce'; readonly fn: ReduceFn };

export interface ChannelReduceSpec {
  readonly output: ChannelOutput;
  /** x viewed as [outer, kept, inner]; channel c covers x[o, c, :] for every o. */
  readonly outer: number;
  readonly kept: number;
  readonly inner: number;
  readonly x: number;
  /** dy (x's shape), for the gradient sums. */
  readonly dy?: number;
  readonly out: number;
}

/**
 * [outer, kept, inner] when the kept axes of a reduction over `axes` of `shape` are one contiguous
 * run; else undefined.
 */
export function keptBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  if (kept.length === 0) return [1, 1, sizeOf(shape)];
  const [first, last] = [kept[0]!, kept[kept.length - 1]!];
  if (last - first + 1 !== kept.length) return undefined;
  return [sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1))];
}

/** The channel reduction an anchor is, with its inputs' addresses; undefined for any other anchor. */
export function channelReduceSpec(attrs: Group['anchor']['attrs'], shapes: readonly (readonly number[])[], inputs: readonly number[], out: number): ChannelReduceSpec | undefined {
  const perChannel = (shape: readonly number[]): [number, number, number] => [shape[0]!, shape[1]!, sizeOf(shape) / (shape[0]! * shape[1]!)];
  switch (attrs.op) {
    case 'bn_stats': {
      const [outer, kept, inner] = perChannel(shapes[0]!);
      return { output: { kind: 'stats' }, outer, kept, inner, x: inputs[0]!, out };
    }
    case 'bn_grad_stats':
    case 'batchnorm_train_grad_gamma': {
      // Both read [dy, x].
      const [outer, kept, inner] = perChannel(shapes[1]!);
      const output: ChannelOutput = attrs.op === 'bn_grad_stats' ? { kind: 'grad_stats', eps: attrs.eps } : { kind: 'grad_gamma', eps: attrs.eps };
      return { output, outer, kept, inner, x: inputs[1]!, dy: inputs[0]!, out };
    }
    case 'reduce': {
      const block = keptBlock(shapes[0]!, attrs.axes);
      if (block === undefined) return undefined;
      const [outer, kept, inner] = block;
      return { output: { kind: 'reduce', fn: attrs.fn }, outer, kept, inner, x: inputs[0]!, out };
    }
    default:
      return undefined;
  }
}

/** A function (lo, hi, scratch) over channels [lo, hi) of `spec.kept`. */
export function channelReduceBody(spec: ChannelReduceSpec): Body {
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi] = [f.param(0), f.param(1)];
  const { outer, kept, inner, output } = spec;
  const count = outer * inner;
  const withDy = spec.dy !== undefined;
  const secondPass = output.kind !== 'reduce' || output.fn === 'var';
  const c = f.local('i32');
  const [o, e, from, pairs, to] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const [acc, accDy] = [f.local('v128'), f.local('v128')];
  const [tail, tailDy] = [f.local('f64'), f.local('f64')];
  const [mean, sum2, sumDy, sumDyX, inv] = [f.local('f64'), f.local('f64'), f.local('f64'), f.local('f64'), f.local('f64')];
  const m2 = f.local('v128');
  const d = f.local('v128');

  /** Widened pair of x (or dy) at byte offset e: an f64x2. */
  const pair = (address: number): void => {
    f.get(e).v128Load64Zero(address).f64x2PromoteLow();
  };
  const single = (address: number): void => {
    f.get(e).f32Load(address).f64FromF32();
  };
  const horizontal = (v: Local, t: Local): void => {
    f.get(v).f64x2Lane(0).get(v).f64x2Lane(1).f64Add().get(t).f64Add();
  };
  /** Runs `body` over every pair of channel c's elements (e at the pair), then `last` on an odd one. */
  const overChannel = (body: () => void, last: () => void): void => {
    f.for(o, 0, outer, 1, () => {
      f.get(o).i32(kept).i32Mul().get(c).i32Add().i32(inner * 4).i32Mul().tee(from);
      f.i32(Math.floor(inner / 2) * 8).i32Add().set(pairs);
      f.get(from).i32(inner * 4).i32Add().set(to);
      f.for(e, from, pairs, 8, body);
      if (inner % 2 === 1) {
        f.get(to).i32(4).i32Sub().set(e);
        last();
      }
    });
  };
  const zero = (v: Local, t: Local): void => {
    f.f64(0).f64x2Splat().set(v);
    f.f64(0).set(t);
  };
  const store = (row: number, value: () => void): void => {
    f.get(c).i32(4).i32Mul();
    value();
    f.f32FromF64().f32Store(spec.out + row * kept * 4);
  };

  f.for(c, lo, hi, 1, () => {
    // Pass 1: sums of x (and dy).
    zero(acc, tail);
    if (withDy) zero(accDy, tailDy);
    overChannel(
      () => {
        f.get(acc);
        pair(spec.x);
        f.f64x2Add().set(acc);
        if (withDy) {
          f.get(accDy);
          pair(spec.dy!);
          f.f64x2Add().set(accDy);
        }
      },
      () => {
        f.get(tail);
        single(spec.x);
        f.f64Add().set(tail);
        if (withDy) {
          f.get(tailDy);
          single(spec.dy!);
          f.f64Add().set(tailDy);
        }
      },
    );
    horizontal(acc, tail);
    if (output.kind === 'reduce' && output.fn === 'sum') {
      f.set(mean);
      store(0, () => f.get(mean));
      return;
    }
    f.f64(count).f64Div().set(mean);
    if (withDy) {
      horizontal(accDy, tailDy);
      f.set(sumDy);
    }
    if (!secondPass) {
      store(0, () => f.get(mean));
      return;
    }
    // Pass 2: squared deviations (and dy times the deviation).
    f.get(mean).f64x2Splat().set(m2);
    zero(acc, tail);
    if (withDy) zero(accDy, tailDy);
    overChannel(
      () => {
        pair(spec.x);
        f.get(m2).f64x2Sub().tee(d).get(d).f64x2Mul().get(acc).f64x2Add().set(acc);
        if (withDy) {
          pair(spec.dy!);
          f.get(d).f64x2Mul().get(accDy).f64x2Add().set(accDy);
        }
      },
      () => {
        single(spec.x);
        f.get(mean).f64Sub().set(sum2);
        f.get(sum2).get(sum2).f64Mul().get(tail).f64Add().set(tail);
        if (withDy) {
          single(spec.dy!);
          f.get(sum2).f64Mul().get(tailDy).f64Add().set(tailDy);
        }
      },
    );
    horizontal(acc, tail);
    f.f64(count).f64Div().set(sum2); // the biased variance
    if (withDy) {
      horizontal(accDy, tailDy);
      f.set(sumDyX);
    }
    switch (output.kind) {
      case 'reduce':
        store(0, () => f.get(sum2));
        return;
      case 'stats':
        store(0, () => f.get(mean));
        store(1, () => f.get(sum2));
        return;
      case 'grad_stats':
      case 'grad_gamma':
        f.f64(1).get(sum2).f64(output.eps).f64Add().f64Sqrt().f64Div().set(inv);
        if (output.kind === 'grad_gamma') {
          store(0, () => f.get(sumDyX).get(inv).f64Mul());
          return;
        }
        store(0, () => f.get(mean));
        store(1, () => f.get(sum2));
        store(2, () => f.get(sumDy).f64(count).f64Div());
        store(3, () => f.get(sumDyX).get(inv).f64Mul().f64(count).f64Div());
    }
  });
  return f;
}

export interface GradXApplySpec {
  /** x's shape [N, C, ...]. */
  readonly shape: readonly number[];
  readonly eps: number;
  readonly dy: number;
  readonly x: number;
  readonly gamma: number;
  /** bn_grad_stats' [mean; variance; mean of dy; mean of dy * xhat]. */
  readonly stats: number;
  readonly out: number;
}

/**
 * dx = gamma / sqrt(var + eps) * (dy - mean(dy) - (x - mean) * mean(dy * xhat) / sqrt(var + eps)),
 * a function (lo, hi, scratch) over planes [lo, hi) of N x C.
 */
export function gradXApplyBody(s: GradXApplySpec): Body {
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi] = [f.param(0), f.param(1)];
  const c = s.shape[1]!;
  const inner = sizeOf(s.shape) / (s.shape[0]! * c);
  const [p, ch, e, from, vecEnd, to] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const iv = f.local('f64');
  const factors = { g: f.local('f32'), m: f.local('f32'), mdy: f.local('f32'), mdyx: f.local('f32') };
  const lanes = { g: f.local('v128'), m: f.local('v128'), mdy: f.local('v128'), mdyx: f.local('v128') };
  const stat = (row: number): void => {
    f.get(ch).f32Load(s.stats + row * c * 4).f64FromF32();
  };
  const element = (vector: boolean): void => {
    const k = vector ? lanes : factors;
    f.get(e); // the store's address
    f.get(e);
    if (vector) f.v128Load(s.dy).get(k.mdy).vSub().get(e).v128Load(s.x).get(k.m).vSub().get(k.mdyx).vMul().vSub().get(k.g).vMul().v128Store(s.out);
    else f.f32Load(s.dy).get(k.mdy).f32Sub().get(e).f32Load(s.x).get(k.m).f32Sub().get(k.mdyx).f32Mul().f32Sub().get(k.g).f32Mul().f32Store(s.out);
  };
  f.for(p, lo, hi, 1, () => {
    f.get(p).i32(c).i32RemU().i32(4).i32Mul().set(ch);
    f.f64(1);
    stat(1);
    f.f64(s.eps).f64Add().f64Sqrt().f64Div().set(iv);
    f.get(ch).f32Load(s.gamma).f64FromF32().get(iv).f64Mul().f32FromF64().set(factors.g);
    stat(0);
    f.f32FromF64().set(factors.m);
    stat(2);
    f.f32FromF64().set(factors.mdy);
    stat(3);
    f.get(iv).f64Mul().f32FromF64().set(factors.mdyx);
    for (const key of ['g', 'm', 'mdy', 'mdyx'] as const) f.get(factors[key]).splat().set(lanes[key]);
    f.get(p).i32(inner * 4).i32Mul().tee(from).i32(Math.floor(inner / 4) * 16).i32Add().set(vecEnd);
    f.get(from).i32(inner * 4).i32Add().set(to);
    f.for(e, from, vecEnd, 16, () => element(true));
    f.for(e, vecEnd, to, 4, () => element(false));
  });
  return f;
}
