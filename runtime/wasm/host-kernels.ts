// Anchors the wasm back end runs on the host, over Float32Array views of its linear memory:
// per-channel batch statistics (the fusion plan's aux ops), reductions and broadcasts (index maps
// built once per program, sums in float64 as in the reference) and every other IR op without a
// WebAssembly form through the reference executor's kernels (losses, data movement: small tensors).

import type { IrNode, OpAttrs } from '../../compiler/ir/ops.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { KernelAttrs } from '../../compiler/passes/kernel-ops.ts';
import { KERNELS } from '../reference/kernels.ts';

export interface HostAnchor {
  readonly attrs: KernelAttrs;
  readonly inputs: readonly Float32Array[];
  readonly shapes: readonly (readonly number[])[];
  readonly shape: readonly number[];
}

/** [N, C, inner] of an activation. */
function dims(shape: readonly number[]): [number, number, number] {
  const [n, c] = [shape[0]!, shape[1]!];
  return [n, c, sizeOf(shape) / (n * c)];
}

/** Mean and biased variance per channel (axis 1), two passes in float64 as in the reference. */
function stats(x: Float32Array, shape: readonly number[], mean: Float64Array, variance: Float64Array): number {
  const [n, c, inner] = dims(shape);
  mean.fill(0);
  variance.fill(0);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      const base = (b * c + ch) * inner;
      for (let i = base; i < base + inner; i++) s += x[i]!;
      mean[ch] += s;
    }
  }
  const count = n * inner;
  for (let ch = 0; ch < c; ch++) mean[ch]! /= count;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      const m = mean[ch]!;
      const base = (b * c + ch) * inner;
      for (let i = base; i < base + inner; i++) s += (x[i]! - m) ** 2;
      variance[ch] += s;
    }
  }
  for (let ch = 0; ch < c; ch++) variance[ch]! /= count;
  return count;
}

/** Per channel: sum of dy and of dy * xhat. */
function gradSums(dy: Float32Array, x: Float32Array, shape: readonly number[], mean: Float64Array, inv: Float64Array, sdy: Float64Array, sdyx: Float64Array): void {
  const [n, c, inner] = dims(shape);
  sdy.fill(0);
  sdyx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      let sx = 0;
      const m = mean[ch]!;
      const base = (b * c + ch) * inner;
      for (let i = base; i < base + inner; i++) {
        s += dy[i]!;
        sx += dy[i]! * (x[i]! - m);
      }
      sdy[ch] += s;
      sdyx[ch] += sx * inv[ch]!;
    }
  }
}

/** Batch-norm anchors: statistics into small [k, C] tensors, and the per-element applications. */
function batchNormKernel(a: Omit<HostAnchor, 'inputs'>): HostKernel | undefined {
  const attrs = a.attrs;
  const c = (attrs.op === 'bn_stats' || attrs.op === 'batchnorm_train_grad_gamma' ? a.shapes[0]! : attrs.op === 'bn_grad_stats' ? a.shapes[1]! : a.shape)[1]!;
  const [mean, variance, inv, sdy, sdyx] = [0, 0, 0, 0, 0].map(() => new Float64Array(c)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const [n, , inner] = dims(attrs.op === 'bn_apply' || attrs.op === 'bn_grad_x_apply' ? a.shape : [1, c]);
  switch (attrs.op) {
    case 'bn_stats':
      return ([x], out) => {
        stats(x!, a.shapes[0]!, mean, variance);
        out.set(mean, 0);
        out.set(variance, c);
      };
    case 'bn_apply':
      return ([x, gamma, beta, st], out) => {
        for (let b = 0; b < n; b++) {
          for (let ch = 0; ch < c; ch++) {
            const scale = (1 / Math.sqrt(st![c + ch]! + attrs.eps)) * gamma![ch]!;
            const [m, shift] = [st![ch]!, beta![ch]!];
            const base = (b * c + ch) * inner;
            for (let i = base; i < base + inner; i++) out[i] = (x![i]! - m) * scale + shift;
          }
        }
      };
    case 'bn_grad_stats':
      return ([dy, x], out) => {
        const count = stats(x!, a.shapes[1]!, mean, variance);
        for (let ch = 0; ch < c; ch++) inv[ch] = 1 / Math.sqrt(variance[ch]! + attrs.eps);
        gradSums(dy!, x!, a.shapes[1]!, mean, inv, sdy, sdyx);
        for (let ch = 0; ch < c; ch++) {
          out[ch] = mean[ch]!;
          out[c + ch] = variance[ch]!;
          out[2 * c + ch] = sdy[ch]! / count;
          out[3 * c + ch] = sdyx[ch]! / count;
        }
      };
    case 'bn_grad_x_apply':
      return ([dy, x, gamma, st], out) => {
        for (let b = 0; b < n; b++) {
          for (let ch = 0; ch < c; ch++) {
            const iv = 1 / Math.sqrt(st![c + ch]! + attrs.eps);
            const [g, m, mdy, mdyx] = [gamma![ch]! * iv, st![ch]!, st![2 * c + ch]!, st![3 * c + ch]! * iv];
            const base = (b * c + ch) * inner;
            for (let i = base; i < base + inner; i++) out[i] = g * (dy![i]! - mdy - (x![i]! - m) * mdyx);
          }
        }
      };
    case 'batchnorm_train_grad_gamma':
      return ([dy, x], out) => {
        stats(x!, a.shapes[0]!, mean, variance);
        for (let ch = 0; ch < c; ch++) inv[ch] = 1 / Math.sqrt(variance[ch]! + attrs.eps);
        gradSums(dy!, x!, a.shapes[0]!, mean, inv, sdy, sdyx);
        out.set(sdyx);
      };
    default:
      return undefined;
  }
}

/** For each flat index of `big`, the flat index into `big` with `axes` removed. */
function collapseIndex(big: readonly number[], axes: readonly number[]): Int32Array {
  const strides: number[] = [];
  let acc = 1;
  for (let a = big.length - 1; a >= 0; a--) {
    strides[a] = axes.includes(a) ? 0 : acc;
    if (!axes.includes(a)) acc *= big[a]!;
  }
  const out = new Int32Array(sizeOf(big));
  const idx = new Array<number>(big.length).fill(0);
  let off = 0;
  for (let f = 0; f < out.length; f++) {
    out[f] = off;
    for (let a = big.length - 1; a >= 0; a--) {
      idx[a]!++;
      off += strides[a]!;
      if (idx[a]! < big[a]!) break;
      off -= strides[a]! * big[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * [outer, kept, inner] when the kept axes of a reduction are one contiguous run (per-channel sums
 * over [0, 2, 3], global pools over [2, 3], dense bias sums over [0]); else undefined.
 */
function keptBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  if (kept.length === 0) return [1, 1, sizeOf(shape)];
  const [first, last] = [kept[0]!, kept[kept.length - 1]!];
  if (last - first + 1 !== kept.length) return undefined;
  return [sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1))];
}

export type HostKernel = (inputs: readonly Float32Array[], out: Float32Array) => void;

/** The anchor's kernel, with its index maps and accumulators made once. */
export function hostKernel(a: Omit<HostAnchor, 'inputs'>): HostKernel {
  const attrs = a.attrs;
  if (attrs.op === 'reduce') {
    const blocks = keptBlock(a.shapes[0]!, attrs.axes);
    if (blocks !== undefined) {
      const [outer, kept, inner] = blocks;
      const [sum, sq] = [new Float64Array(kept), new Float64Array(kept)];
      const count = outer * inner;
      return ([x], out) => {
        sum.fill(0);
        sq.fill(0);
        for (let o = 0; o < outer; o++) {
          for (let k = 0; k < kept; k++) {
            let t = 0;
            const base = (o * kept + k) * inner;
            for (let i = base; i < base + inner; i++) t += x![i]!;
            sum[k] += t;
          }
        }
        if (attrs.fn === 'sum') return out.set(sum);
        for (let k = 0; k < kept; k++) sum[k]! /= count;
        if (attrs.fn === 'mean') return out.set(sum);
        for (let o = 0; o < outer; o++) {
          for (let k = 0; k < kept; k++) {
            let t = 0;
            const [m, base] = [sum[k]!, (o * kept + k) * inner];
            for (let i = base; i < base + inner; i++) t += (x![i]! - m) ** 2;
            sq[k] += t;
          }
        }
        for (let k = 0; k < kept; k++) out[k] = sq[k]! / count;
      };
    }
  }
  if (attrs.op === 'reduce') {
    const map = collapseIndex(a.shapes[0]!, attrs.axes);
    const sum = new Float64Array(sizeOf(a.shape));
    const count = map.length / sum.length;
    return ([x], out) => {
      sum.fill(0);
      for (let i = 0; i < map.length; i++) sum[map[i]!] += x![i]!;
      if (attrs.fn === 'sum') return out.set(sum);
      for (let j = 0; j < sum.length; j++) sum[j]! /= count;
      if (attrs.fn === 'mean') return out.set(sum);
      out.fill(0);
      const sq = new Float64Array(sum.length);
      for (let i = 0; i < map.length; i++) sq[map[i]!] += (x![i]! - sum[map[i]!]!) ** 2;
      for (let j = 0; j < sq.length; j++) out[j] = sq[j]! / count;
    };
  }
  if (attrs.op === 'expand') {
    const map = collapseIndex(a.shape, attrs.axes);
    return ([x], out) => {
      for (let i = 0; i < map.length; i++) out[i] = x![map[i]!]!;
    };
  }
  return batchNormKernel(a) ?? ((inputs, out) => runHostAnchor({ ...a, inputs }, out));
}

/** Writes the anchor's value into `out`: the reference executor's kernel. */
function runHostAnchor(a: HostAnchor, out: Float32Array): void {
  const attrs = a.attrs;
  switch (attrs.op) {
    case 'bn_stats':
    case 'bn_apply':
    case 'bn_grad_stats':
    case 'bn_grad_x_apply':
    case 'conv_grad_weight_split':
    case 'sum_splits':
    case 'conv_grad_columns':
    case 'col2im':
      throw new Error(`the wasm back end has no host kernel for ${attrs.op}`);
    default: {
      const node: IrNode = { id: -1, attrs: attrs as OpAttrs, inputs: [], shape: a.shape };
      out.set(KERNELS[attrs.op](node, a.inputs, a.shapes));
    }
  }
}
