// Convolution and pooling over 1, 2 or 3 spatial axes: `conv` and `maxpool` take their rank from the
// input, `conv2d` and friends insist on one.

import type { SpatialRank } from '../graph.ts';
import { ArgReader, describeInput, type LayerContext, type LayerInput, type LayerSpec, type LayerType } from './definition.ts';
import { applyRule, resolvePadding, type Padding } from '../checker/output-size.ts';
import { formatShape, product, type ArgValue } from '../checker/values.ts';

const rankNames: Record<SpatialRank, string> = { 1: 'L x C', 2: 'H x W x C', 3: 'D x H x W x C' };

/** The spatial rank the layer works in, or undefined after reporting a rank mismatch. */
function spatialRank(ctx: LayerContext, input: LayerInput): SpatialRank | undefined {
  const explicit = /([123])d$/.exec(ctx.op);
  const rank = input.value.shape.length - 1;
  if (explicit) {
    const want = Number(explicit[1]) as SpatialRank;
    if (rank !== want) {
      const hint = rank === 0 ? 'a vector has no spatial axes; reshape it first' : `use ${ctx.op.replace(/[123]d$/, `${rank}d`)} for a ${formatShape(input.value.shape)} input`;
      ctx.report('wrongRank', ctx.opSpan, `${ctx.op} expects ${rankNames[want]}, got ${describeInput(input)}`, hint);
      return undefined;
    }
    return want;
  }
  if (rank < 1 || rank > 3) {
    ctx.report('wrongRank', ctx.opSpan, `${ctx.op} expects L x C, H x W x C or D x H x W x C, got ${describeInput(input)}`, rank === 0 ? 'a vector has no spatial axes; reshape it first' : undefined);
    return undefined;
  }
  return rank as SpatialRank;
}

function readPadding(reader: ArgReader, arg: ArgValue | undefined, rank: number): Padding | undefined {
  if (!arg) return { kind: 'valid' };
  if (arg.value.kind === 'symbol') {
    const s = reader.symbol(arg, 'pad', ['same', 'valid']);
    return s === undefined ? undefined : { kind: s as 'same' | 'valid' };
  }
  const sizes = reader.sizes(arg, 'pad', rank, 0);
  return sizes && { kind: 'explicit', before: sizes, after: sizes };
}

interface Window {
  readonly kernel: number[];
  readonly effective: number[];
  readonly stride: number[];
  readonly padBefore: number[];
  readonly padAfter: number[];
  readonly dilation: number[];
}

/**
 * Apply the output-size rule per axis: an error when an axis comes out below 1, a warning when the
 * division is not exact (the rule floors, and the last rows or columns are never read) unless the
 * author asked for a rounding with `round floor` / `round ceil`.
 */
function outputSpatial(ctx: LayerContext, input: LayerInput, w: Window, rounding: Rounding, what: string, padding: Padding): number[] | undefined {
  const spatial = input.value.shape.slice(0, -1);
  const axisNames = spatial.length === 1 ? ['length'] : spatial.length === 2 ? ['height', 'width'] : ['depth', 'height', 'width'];
  const results = spatial.map((n, i) => applyRule({ n, f: w.effective[i], s: w.stride[i], padBefore: w.padBefore[i], padAfter: w.padAfter[i] }, rounding.mode === 'ceil'));
  const tooSmall = results.findIndex((r) => r.out < 1);
  if (tooSmall >= 0) {
    const i = tooSmall;
    ctx.report(
      'nonPositiveSize',
      ctx.span,
      `${what} on ${describeInput(input)} gives ${axisNames[i]} ${results[i].arithmetic}, below 1`,
      `the input's ${axisNames[i]} ${spatial[i]} (with padding ${w.padBefore[i] + w.padAfter[i]}) is smaller than the ${w.effective[i]}-wide window; pad it or use a smaller kernel`,
    );
    return undefined;
  }
  const fractional = results.map((r, i) => ({ r, i })).filter(({ r }) => !Number.isInteger(r.exact));
  if (!rounding.explicit && padding.kind !== 'same' && fractional.length > 0) {
    const unread = fractional.map(({ r, i }) => spatial[i] + w.padBefore[i] + w.padAfter[i] - ((r.out - 1) * w.stride[i] + w.effective[i]));
    ctx.report(
      'fractionalSize',
      ctx.span,
      `${what} on ${formatShape(spatial)}: ${fractional.map(({ r, i }) => `${axisNames[i]} ${r.arithmetic}`).join(', ')}, floored to ${results.map((r) => r.out).join('x')}; the last ${unread.join('/')} input position(s) along ${fractional.map(({ i }) => axisNames[i]).join(' and ')} are never read`,
      `pad so that n + 2p - f is a multiple of the stride, use \`pad same\`, or write \`round floor\` to accept the floor`,
    );
  }
  return results.map((r) => r.out);
}

interface Rounding {
  readonly mode: 'floor' | 'ceil';
  /** Written by the author: the rounding is intended, so no warning. */
  readonly explicit: boolean;
}

function readRounding(reader: ArgReader, allowed: readonly ('floor' | 'ceil')[]): Rounding | undefined {
  const arg = reader.keyword('round');
  if (!arg) return { mode: 'floor', explicit: false };
  const mode = reader.symbol(arg, 'round', allowed);
  return mode === undefined ? undefined : { mode: mode as 'floor' | 'ceil', explicit: true };
}

function describeWindow(op: string, w: Window): string {
  const stride = w.stride.every((s) => s === 1) ? '' : ` stride ${w.stride.join('x')}`;
  return `${op} ${w.kernel.join('x')}${stride}`;
}

export const conv: LayerSpec = {
  inputs: 'one',
  keywords: ['stride', 'pad', 'dilation', 'bias', 'round'],
  signature: 'conv filters, f x f [, stride s] [, pad p | same | valid] [, dilation d] [, bias on | off] [, round floor]',
  doc: 'Convolution with `filters` kernels of size f x f (1D, 2D or 3D from the input). Output size per axis: floor((n + 2p - f)/s) + 1.',
  type(ctx): LayerType | undefined {
    const [input] = ctx.inputs;
    const rank = spatialRank(ctx, input);
    if (!rank) return undefined;
    const reader = new ArgReader(ctx);
    const filtersArg = reader.arg('filters');
    const kernelArg = reader.arg('kernel');
    if (!filtersArg || !kernelArg) {
      reader.fail(ctx.span, `${ctx.op} needs a filter count and a kernel size, e.g. \`${ctx.op} 32, 3x3\``);
      return undefined;
    }
    const filters = reader.integer(filtersArg, 'filter count');
    const kernel = reader.sizes(kernelArg, 'kernel', rank);
    const strideArg = reader.keyword('stride');
    const stride = strideArg ? reader.sizes(strideArg, 'stride', rank) : Array<number>(rank).fill(1);
    const dilationArg = reader.keyword('dilation');
    const dilation = dilationArg ? reader.sizes(dilationArg, 'dilation', rank) : Array<number>(rank).fill(1);
    const padding = readPadding(reader, reader.keyword('pad'), rank);
    const biasArg = reader.keyword('bias');
    const bias = biasArg ? reader.flag(biasArg, 'bias') : true;
    const rounding = readRounding(reader, ['floor']);
    if (!reader.finish() || !filters || !kernel || !stride || !dilation || !padding || bias === undefined || !rounding) return undefined;
    const spatial = input.value.shape.slice(0, -1);
    const effective = kernel.map((k, i) => dilation[i] * (k - 1) + 1);
    const { before, after } = resolvePadding(padding, spatial, effective, stride);
    const w: Window = { kernel, effective, stride, padBefore: before, padAfter: after, dilation };
    const out = outputSpatial(ctx, input, w, rounding, describeWindow(ctx.op, w), padding);
    if (!out) return undefined;
    const channels = input.value.shape[input.value.shape.length - 1];
    const params: LayerType['params'][number][] = [{ role: 'weight', shape: [filters, channels, ...kernel] }];
    if (bias) params.push({ role: 'bias', shape: [filters] });
    return {
      attrs: { op: 'conv', rank, filters, kernel, stride, padBefore: before, padAfter: after, dilation, bias },
      shape: [...out, filters],
      params,
      macs: product(out) * filters * product(kernel) * channels,
    };
  },
};

export const pool: LayerSpec = {
  inputs: 'one',
  keywords: ['stride', 'pad', 'round'],
  signature: 'maxpool f x f [, stride s] [, pad p | same | valid] [, round floor | ceil]',
  doc: 'Max or average pooling (1D, 2D or 3D from the input). Stride defaults to the window size; `round ceil` rounds the output size up as Caffe and torchvision ceil_mode do. Average pooling divides by the number of input (not padding) values in the window.',
  type(ctx): LayerType | undefined {
    const [input] = ctx.inputs;
    const rank = spatialRank(ctx, input);
    if (!rank) return undefined;
    const reader = new ArgReader(ctx);
    const kernelArg = reader.arg('kernel');
    if (!kernelArg) {
      reader.fail(ctx.span, `${ctx.op} needs a window size, e.g. \`${ctx.op} 2x2, stride 2\``);
      return undefined;
    }
    const kernel = reader.sizes(kernelArg, 'window', rank);
    const strideArg = reader.keyword('stride');
    const stride = strideArg ? reader.sizes(strideArg, 'stride', rank) : kernel;
    const padding = readPadding(reader, reader.keyword('pad'), rank);
    const rounding = readRounding(reader, ['floor', 'ceil']);
    if (!reader.finish() || !kernel || !stride || !padding || !rounding) return undefined;
    const spatial = input.value.shape.slice(0, -1);
    const { before, after } = resolvePadding(padding, spatial, kernel, stride);
    const w: Window = { kernel, effective: kernel, stride, padBefore: before, padAfter: after, dilation: kernel.map(() => 1) };
    const out = outputSpatial(ctx, input, w, rounding, describeWindow(ctx.op, w), padding);
    if (!out) return undefined;
    const channels = input.value.shape[input.value.shape.length - 1];
    return {
      attrs: { op: ctx.op.startsWith('max') ? 'maxpool' : 'avgpool', rank, kernel, stride, padBefore: before, padAfter: after, ceil: rounding.mode === 'ceil' },
      shape: [...out, channels],
      params: [],
      macs: 0,
    };
  },
};

export const globalPool: LayerSpec = {
  inputs: 'one',
  keywords: [],
  signature: 'global_avgpool',
  doc: 'Average (or max) over every spatial position: L x C, H x W x C or D x H x W x C to a vector of C.',
  type(ctx): LayerType | undefined {
    const [input] = ctx.inputs;
    if (!spatialRank(ctx, input) || !new ArgReader(ctx).finish()) return undefined;
    const shape = input.value.shape;
    return { attrs: { op: ctx.op.includes('max') ? 'global_maxpool' : 'global_avgpool' }, shape: [shape[shape.length - 1]], params: [], macs: 0 };
  },
};
