// What convolution and pooling layers share: the spatial rank (`conv` and `maxpool` take theirs from
// the input, `conv2d` and friends insist on one), padding and rounding arguments, and the output-size
// rule per axis with its arithmetic for errors and hovers.

import { messages } from '../../grammar/diagnostics.ts';
import type { Shape, SpatialRank } from '../graph.ts';
import { applyRule, type Padding } from '../checker/output-size.ts';
import { type ArgValue } from '../checker/values.ts';
import type { ArgReader } from './arguments.ts';
import { axisNames, type LayerContext, type LayerInput, type SizeArithmetic } from './definition.ts';

/** The spatial rank the layer works in, or undefined after reporting a rank mismatch. */
export function spatialRank(ctx: LayerContext, input: LayerInput): SpatialRank | undefined {
  const explicit = /([123])d$/.exec(ctx.op);
  const rank = input.value.shape.length - 1;
  if (explicit) {
    const want = Number(explicit[1]) as SpatialRank;
    if (rank !== want) {
      ctx.report(ctx.opSpan, messages.wrongRank.spatialRank({ op: ctx.op, want, input: input.value }));
      return undefined;
    }
    return want;
  }
  if (rank < 1 || rank > 3) {
    ctx.report(ctx.opSpan, messages.wrongRank.anySpatialRank({ op: ctx.op, input: input.value }));
    return undefined;
  }
  return rank as SpatialRank;
}

/** The padding words `pad` takes besides sizes. */
export const PAD_WORDS = ['same', 'valid'] as const;
/** `round` on a convolution: floor only (a ceiled convolution would read past its padding). */
export const CONV_ROUNDING = ['floor'] as const;
/** `round` on pooling: floor, or ceil as Caffe and torchvision's ceil_mode. */
export const POOL_ROUNDING = ['floor', 'ceil'] as const;

export function readPadding(reader: ArgReader, arg: ArgValue | undefined, rank: number): Padding | undefined {
  if (!arg) return { kind: 'valid' };
  if (arg.value.kind === 'symbol') {
    const s = reader.symbol(arg, 'pad', PAD_WORDS);
    return s === undefined ? undefined : { kind: s as 'same' | 'valid' };
  }
  const sizes = reader.sizes(arg, 'pad', rank, 0);
  return sizes && { kind: 'explicit', before: sizes, after: sizes };
}

export interface Window {
  readonly kernel: readonly number[];
  readonly effective: readonly number[];
  readonly stride: readonly number[];
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
  readonly dilation: readonly number[];
}

/**
 * Apply the output-size rule per axis: an error when an axis comes out below 1, a warning when the
 * division is not exact (the rule floors, and the last rows or columns are never read) unless the
 * author asked for a rounding with `round floor` / `round ceil`.
 */
export function outputSpatial(ctx: LayerContext, input: LayerInput, w: Window, rounding: Rounding, what: string, padding: Padding): number[] | undefined {
  const spatial = input.value.shape.slice(0, -1);
  const names = axisNames(spatial.length);
  const results = spatial.map((n, i) => applyRule({ n, f: w.effective[i], s: w.stride[i], padBefore: w.padBefore[i], padAfter: w.padAfter[i] }, rounding.mode === 'ceil'));
  const tooSmall = results.findIndex((r) => r.out < 1);
  if (tooSmall >= 0) {
    const i = tooSmall;
    ctx.report(
      ctx.span,
      messages.nonPositiveSize.window({ what, input: input.value, axis: names[i], arithmetic: results[i].arithmetic, size: spatial[i], padding: w.padBefore[i] + w.padAfter[i], window: w.effective[i] }),
    );
    return undefined;
  }
  const fractional = results.map((r, i) => ({ r, i })).filter(({ r }) => !Number.isInteger(r.exact));
  if (!rounding.explicit && padding.kind !== 'same' && fractional.length > 0) {
    const unread = fractional.map(({ r, i }) => spatial[i] + w.padBefore[i] + w.padAfter[i] - ((r.out - 1) * w.stride[i] + w.effective[i]));
    const axes = fractional.map(({ r, i }) => ({ axis: names[i], arithmetic: r.arithmetic }));
    ctx.report(ctx.span, messages.fractionalSize.floored({ what, spatial, fractional: axes, out: results.map((r) => r.out), unread }));
  }
  return results.map((r) => r.out);
}

export interface Rounding {
  readonly mode: 'floor' | 'ceil';
  /** Written by the author: the rounding is intended, so no warning. */
  readonly explicit: boolean;
}

export function readRounding(reader: ArgReader, allowed: readonly ('floor' | 'ceil')[]): Rounding | undefined {
  const arg = reader.keyword('round');
  if (!arg) return { mode: 'floor', explicit: false };
  const mode = reader.symbol(arg, 'round', allowed);
  return mode === undefined ? undefined : { mode: mode as 'floor' | 'ceil', explicit: true };
}

export function describeWindow(op: string, w: Window): string {
  const stride = w.stride.every((s) => s === 1) ? '' : ` stride ${w.stride.join('x')}`;
  return `${op} ${w.kernel.join('x')}${stride}`;
}

/** A dilated kernel's extent per axis, d(k - 1) + 1: the window it covers. */
export const kernelExtent = (kernel: readonly number[], dilation: readonly number[]): number[] => kernel.map((k, i) => dilation[i]! * (k - 1) + 1);

/** The rule floor((n + 2p - f)/s) + 1 (or ceil) per axis of `input`, as a hover shows it. */
export function windowArithmetic(input: Shape, w: Omit<Window, 'effective'>, ceil: boolean): SizeArithmetic {
  const spatial = input.slice(0, -1);
  const names = axisNames(spatial.length);
  const extent = kernelExtent(w.kernel, w.dilation);
  const axes = spatial.map((n, i) => {
    const r = applyRule({ n, f: extent[i], s: w.stride[i], padBefore: w.padBefore[i], padAfter: w.padAfter[i] }, ceil);
    const rounded = r.out === r.exact ? '' : ` -> ${r.out}`;
    return `${names[i]}: ${r.arithmetic}${rounded}`;
  });
  return { rule: 'floor((n + 2p - f)/s) + 1', axes };
}
