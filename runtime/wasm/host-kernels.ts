// Anchors the wasm back end runs on the host, over Float32Array views of its linear memory:
// reductions whose kept axes are not one contiguous run and broadcasts (index maps built once per
// program, sums in float64 as in the reference), and every other IR op without a WebAssembly form
// through the reference executor's kernels (losses, data movement: small tensors).

import type { IrNode, OpAttrs } from '../../compiler/ir/ops.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { KernelAttrs } from '../../compiler/passes/kernel-ops.ts';
import { classIndex, KERNELS } from '../reference/kernels.ts';

export interface HostAnchor {
  readonly attrs: KernelAttrs;
  readonly inputs: readonly Float32Array[];
  readonly shapes: readonly (readonly number[])[];
  readonly shape: readonly number[];
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
    const sq = new Float64Array(attrs.fn === 'var' ? sum.length : 0);
    return ([x], out) => {
      sum.fill(0);
      for (let i = 0; i < map.length; i++) sum[map[i]!] += x![i]!;
      if (attrs.fn === 'sum') return out.set(sum);
      for (let j = 0; j < sum.length; j++) sum[j]! /= count;
      if (attrs.fn === 'mean') return out.set(sum);
      out.fill(0);
      sq.fill(0);
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
  if (attrs.op === 'one_hot') {
    const classes = attrs.classes;
    return ([labels], out) => {
      out.fill(0);
      labels!.forEach((l, n) => (out[n * classes + classIndex(l, n, classes)] = 1));
    };
  }
  return (inputs, out) => runHostAnchor({ ...a, inputs }, out);
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
