// Anchors the wasm back end runs on the host, over Float32Array views of its linear memory:
// per-channel batch statistics (the fusion plan's aux ops), reductions and broadcasts (index maps
// built once per program, sums in float64 as in the reference) and every other IR op without a
// WebAssembly form through the reference executor's kernels (losses, data movement: small tensors).

import type { IrNode, OpAttrs } from '../../compiler/ir/ops.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { KernelAttrs } from '../../compiler/codegen/wgsl/flat-ops.ts';
import { KERNELS } from '../reference/kernels.ts';

export interface HostAnchor {
  readonly attrs: KernelAttrs;
  readonly inputs: readonly Float32Array[];
  readonly shapes: readonly (readonly number[])[];
  readonly shape: readonly number[];
}

/** Per-channel sums over every axis but 1 of x (and optionally of x * y), in float64. */
function channelSums(x: Float32Array, shape: readonly number[], f: (c: number, v: number, i: number) => void): void {
  const [n, c] = [shape[0]!, shape[1]!];
  const inner = sizeOf(shape) / (n * c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * inner;
      for (let i = 0; i < inner; i++) f(ch, x[base + i]!, base + i);
    }
  }
}

function stats(x: Float32Array, shape: readonly number[]): { mean: Float64Array; variance: Float64Array; count: number } {
  const c = shape[1]!;
  const count = sizeOf(shape) / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  channelSums(x, shape, (ch, v) => { mean[ch] += v; });
  for (let ch = 0; ch < c; ch++) mean[ch]! /= count;
  channelSums(x, shape, (ch, v) => { variance[ch] += (v - mean[ch]!) ** 2; });
  for (let ch = 0; ch < c; ch++) variance[ch]! /= count;
  return { mean, variance, count };
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

export type HostKernel = (inputs: readonly Float32Array[], out: Float32Array) => void;

/** The anchor's kernel, with its index maps and accumulators made once. */
export function hostKernel(a: Omit<HostAnchor, 'inputs'>): HostKernel {
  const attrs = a.attrs;
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
  return (inputs, out) => runHostAnchor({ ...a, inputs }, out);
}

/** Writes the anchor's value into `out`. */
export function runHostAnchor(a: HostAnchor, out: Float32Array): void {
  const [x, y, z, w] = a.inputs;
  const attrs = a.attrs;
  switch (attrs.op) {
    case 'bn_stats': {
      const { mean, variance } = stats(x!, a.shapes[0]!);
      out.set(mean, 0);
      out.set(variance, mean.length);
      return;
    }
    case 'bn_apply': {
      const c = a.shapes[0]![1]!;
      channelSums(x!, a.shape, (ch, v, i) => {
        const inv = 1 / Math.sqrt(w![c + ch]! + attrs.eps);
        out[i] = (v - w![ch]!) * inv * y![ch]! + z![ch]!;
      });
      return;
    }
    case 'bn_grad_stats': {
      const shape = a.shapes[1]!;
      const c = shape[1]!;
      const { mean, variance, count } = stats(y!, shape);
      const mdy = new Float64Array(c);
      const mdyx = new Float64Array(c);
      channelSums(y!, shape, (ch, v, i) => {
        mdy[ch] += x![i]!;
        mdyx[ch] += (x![i]! * (v - mean[ch]!)) / Math.sqrt(variance[ch]! + attrs.eps);
      });
      for (let ch = 0; ch < c; ch++) {
        out[ch] = mean[ch]!;
        out[c + ch] = variance[ch]!;
        out[2 * c + ch] = mdy[ch]! / count;
        out[3 * c + ch] = mdyx[ch]! / count;
      }
      return;
    }
    case 'bn_grad_x_apply': {
      const c = a.shape[1]!;
      channelSums(y!, a.shape, (ch, v, i) => {
        const inv = 1 / Math.sqrt(w![c + ch]! + attrs.eps);
        const xhat = (v - w![ch]!) * inv;
        out[i] = z![ch]! * inv * (x![i]! - w![2 * c + ch]! - xhat * w![3 * c + ch]!);
      });
      return;
    }
    case 'conv_grad_weight_split':
    case 'sum_splits':
    case 'conv_grad_columns':
    case 'col2im':
      throw new Error(`the wasm back end plans convolution gradients directly; got ${attrs.op}`);
    default: {
      const node: IrNode = { id: -1, attrs: attrs as OpAttrs, inputs: [], shape: a.shape };
      out.set(KERNELS[attrs.op](node, a.inputs, a.shapes));
    }
  }
}
