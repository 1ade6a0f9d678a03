// Convolution over 1, 2 or 3 spatial axes.

import { messages, type Message } from '../../grammar/diagnostics.ts';
import { resolvePadding } from '../checker/output-size.ts';
import { weightedInputs } from '../export/onnx/layer-form.ts';
import { channelsOf, samePads, torchPad } from '../export/pytorch/layer-form.ts';
import type { SpatialRank } from '../graph.ts';
import { product } from '../checker/values.ts';
import { windowField } from '../receptive-field.ts';
import { ArgReader, FLAG_WORDS } from './arguments.ts';
import { ownedParam, type LayerContext, type LayerDefinition, type LayerType } from './definition.ts';
import { CONV_ROUNDING, describeWindow, kernelExtent, outputSpatial, PAD_WORDS, readPadding, readRounding, spatialRank, windowArithmetic, type Window } from './spatial.ts';

/** Attributes of a convolution (`conv`) and, with output padding, of a transposed one. */
export interface ConvFields {
  readonly rank: SpatialRank;
  readonly filters: number;
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  /** Zero padding before each spatial axis (top / left / front). */
  readonly padBefore: readonly number[];
  /** Zero padding after each spatial axis; differs from padBefore only for `same` with odd totals. */
  readonly padAfter: readonly number[];
  readonly dilation: readonly number[];
  readonly bias: boolean;
}

/** What a convolution and a transposed one read alike: filters and kernel, then stride and dilation (1 when not written). */
export interface ConvWindowArgs {
  readonly filters: number | undefined;
  readonly kernel: number[] | undefined;
  readonly stride: number[] | undefined;
  readonly dilation: number[] | undefined;
}

/** Undefined, with `needs` reported at the layer, when the filter count or the kernel size is missing. */
export function readConvWindow(reader: ArgReader, ctx: LayerContext, rank: number, needs: Message): ConvWindowArgs | undefined {
  const filtersArg = reader.arg('filters');
  const kernelArg = reader.arg('kernel');
  if (!filtersArg || !kernelArg) return reader.fail(ctx.span, needs);
  const ones = Array<number>(rank).fill(1);
  return {
    filters: reader.integer(filtersArg, 'filter count'),
    kernel: reader.sizes(kernelArg, 'kernel', rank),
    stride: reader.optionalSizes('stride', rank, ones),
    dilation: reader.optionalSizes('dilation', rank, ones),
  };
}

export const conv: LayerDefinition<'conv', ConvFields> = {
  names: ['conv', 'conv1d', 'conv2d', 'conv3d'],
  inputs: 'one',
  keywords: ['stride', 'pad', 'dilation', 'bias', 'round'],
  keywordWords: { pad: PAD_WORDS, bias: FLAG_WORDS, round: CONV_ROUNDING },
  signature: 'conv filters, f x f [, stride s] [, pad p | same | valid] [, dilation d] [, bias on | off] [, round floor]',
  doc: 'Convolution with `filters` kernels of size f x f (1D, 2D or 3D from the input). Output size per axis: floor((n + 2p - f)/s) + 1.',
  reference: {
    example: '`conv 32, 3x3, stride 1, pad same, dilation 1, bias on`',
    output: 'each spatial axis by the rule; `filters` channels',
    parameters: '`filters * (prod(k) * C + 1)` (`+1` only with bias)',
    macs: '`prod(out spatial) * filters * prod(k) * C`',
  },
  inPlace: false,
  type(ctx): LayerType<'conv'> | undefined {
    const [input] = ctx.inputs;
    const rank = spatialRank(ctx, input);
    if (!rank) return undefined;
    const reader = new ArgReader(ctx);
    const window = readConvWindow(reader, ctx, rank, messages.wrongArguments.convNeeds({ op: ctx.op }));
    if (!window) return undefined;
    const { filters, kernel, stride, dilation } = window;
    const padding = readPadding(reader, reader.keyword('pad'), rank);
    const bias = reader.optionalFlag('bias', true);
    const rounding = readRounding(reader, CONV_ROUNDING);
    if (!reader.finish() || !filters || !kernel || !stride || !dilation || !padding || bias === undefined || !rounding) return undefined;
    const spatial = input.value.shape.slice(0, -1);
    const effective = kernelExtent(kernel, dilation);
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
  display: (a) => `conv${a.rank}d`,
  arithmetic: (a, input) => windowArithmetic(input, a, false),
  receptiveField: (a, [first]) => windowField(first, a.kernel, a.stride, a.padBefore, a.dilation),
  lower(ctx, layer, a, [x]) {
    const w = ownedParam(ctx, layer, 'weight');
    const y = ctx.b.conv(x!, w, { rank: a.rank, stride: a.stride, padBefore: a.padBefore, padAfter: a.padAfter, dilation: a.dilation });
    return a.bias ? ctx.b.biasAdd(y, ownedParam(ctx, layer, 'bias')) : y;
  },
  onnx: (e, a) => e.node('Conv', weightedInputs(e, a), { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...a.padAfter], dilations: a.dilation }),
  pytorch(t, a) {
    const symmetric = samePads(a.padBefore, a.padAfter);
    const module = `nn.Conv${a.rank}d(${channelsOf(t.layer.inputShapes[0]!)}, ${a.filters}, ${t.py(a.kernel)}, stride=${t.py(a.stride)}, padding=${t.py(symmetric ? a.padBefore : a.kernel.map(() => 0))}, dilation=${t.py(a.dilation)}, bias=${t.py(a.bias)})`;
    return { module, value: symmetric ? `${t.m}(${t.x})` : `${t.m}(F.pad(${t.x}, ${t.py(torchPad(a.padBefore, a.padAfter))}))` };
  },
};
