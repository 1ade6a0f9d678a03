// Transposed convolution (PyTorch's ConvTranspose, Keras' Conv2DTranspose): the adjoint of `conv`,
// which upsamples by its stride. Per spatial axis, out = (n - 1)s - 2p + f + op with the dilated
// kernel extent f = d(k - 1) + 1 and the output padding op < s choosing among the sizes a stride-s
// convolution maps back to n. Lowered to the convolution's input gradient, so every back end that
// trains a convolution runs it.

import { messages } from '../../grammar/diagnostics.ts';
import { product } from '../checker/values.ts';
import { weightedInputs } from '../export/onnx/layer-form.ts';
import { channelsOf } from '../export/pytorch/layer-form.ts';
import { ArgReader, FLAG_WORDS } from './arguments.ts';
import { axisNames, ownedParam, type LayerDefinition, type LayerType } from './definition.ts';
import { readConvWindow, type ConvFields } from './conv.ts';
import { kernelExtent, spatialRank } from './spatial.ts';

export interface ConvTransposeFields extends ConvFields {
  /** Output padding: extra rows and columns after each spatial axis, below the stride. */
  readonly outputPadding: readonly number[];
}

interface AxisSize {
  readonly out: number;
  /** `(14 - 1)*2 - 2*1 + 3 + 1 = 28` */
  readonly arithmetic: string;
}

function transposedSize(n: number, f: number, s: number, p: number, op: number): AxisSize {
  const out = (n - 1) * s - 2 * p + f + op;
  return { out, arithmetic: `(${n} - 1)*${s} - 2*${p} + ${f} + ${op} = ${out}` };
}

export const convTranspose: LayerDefinition<'conv_transpose', ConvTransposeFields> = {
  names: ['conv_transpose', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'],
  inputs: 'one',
  keywords: ['stride', 'pad', 'output_padding', 'dilation', 'bias'],
  keywordWords: { bias: FLAG_WORDS },
  signature: 'conv_transpose filters, f x f [, stride s] [, pad p] [, output_padding op] [, dilation d] [, bias on | off]',
  doc: 'Transposed convolution (learned upsampling, as in U-Net and FCN decoders): the adjoint of a convolution with the same kernel, stride and padding. Output size per axis: (n - 1)s - 2p + d(f - 1) + 1 + op, with output padding op < s. Weights are [C, filters, k...] as in PyTorch.',
  reference: {
    example: '`conv_transpose 16, 2x2, stride 2`',
    output: 'each spatial axis `(n - 1)s - 2p + d(f - 1) + 1 + op`; `filters` channels',
    parameters: '`C * filters * prod(k) + filters` (`+ filters` only with bias)',
    macs: '`prod(in spatial) * C * filters * prod(k)`',
  },
  inPlace: false,
  type(ctx): LayerType<'conv_transpose'> | undefined {
    const [input] = ctx.inputs;
    const rank = spatialRank(ctx, input);
    if (!rank) return undefined;
    const reader = new ArgReader(ctx);
    const window = readConvWindow(reader, ctx, rank, messages.wrongArguments.convTransposeNeeds({ op: ctx.op }));
    if (!window) return undefined;
    const { filters, kernel, stride, dilation } = window;
    const zeros = Array<number>(rank).fill(0);
    const pad = reader.optionalSizes('pad', rank, zeros, 0);
    const outputPaddingArg = reader.keyword('output_padding');
    const outputPadding = outputPaddingArg ? reader.sizes(outputPaddingArg, 'output_padding', rank, 0) : zeros;
    const bias = reader.optionalFlag('bias', true);
    if (!reader.finish() || !filters || !kernel || !stride || !dilation || !pad || !outputPadding || bias === undefined) return undefined;
    const tooLarge = outputPadding.findIndex((op, i) => op >= stride[i]!);
    if (tooLarge >= 0) {
      ctx.report(outputPaddingArg?.span ?? ctx.span, messages.wrongArguments.outputPadding({ op: ctx.op, outputPadding, stride }));
      return undefined;
    }
    const spatial = input.value.shape.slice(0, -1);
    const f = kernelExtent(kernel, dilation);
    const sizes = spatial.map((n, i) => transposedSize(n, f[i]!, stride[i]!, pad[i]!, outputPadding[i]!));
    const tooSmall = sizes.findIndex((s) => s.out < 1);
    if (tooSmall >= 0) {
      const name = axisNames(rank)[tooSmall];
      ctx.report(ctx.span, messages.nonPositiveSize.transposed({ op: ctx.op, input: input.value, axis: name!, arithmetic: sizes[tooSmall]!.arithmetic, pad: pad[tooSmall]!, kernel: f[tooSmall]! }));
      return undefined;
    }
    const channels = input.value.shape[input.value.shape.length - 1]!;
    const params: LayerType['params'][number][] = [{ role: 'weight', shape: [channels, filters, ...kernel] }];
    if (bias) params.push({ role: 'bias', shape: [filters] });
    return {
      attrs: { op: 'conv_transpose', rank, filters, kernel, stride, padBefore: pad, padAfter: pad, dilation, bias, outputPadding },
      shape: [...sizes.map((s) => s.out), filters],
      params,
      macs: product(spatial) * channels * filters * product(kernel),
    };
  },
  display: (a) => `conv_transpose${a.rank}d`,
  arithmetic(a, input) {
    const f = kernelExtent(a.kernel, a.dilation);
    const names = axisNames(a.rank);
    const axes = input.slice(0, -1).map((n, i) => `${names[i]}: ${transposedSize(n, f[i]!, a.stride[i]!, a.padBefore[i]!, a.outputPadding[i]!).arithmetic}`);
    return { rule: '(n - 1)s - 2p + f + op', axes };
  },
  // Output position o sees the inputs i with i*s - p + k = o: ceil(f/s) of them, 1/s input pixels apart.
  receptiveField(a, [first]) {
    const f = kernelExtent(a.kernel, a.dilation);
    return {
      size: first!.size.map((r, i) => r + (Math.ceil(f[i]! / a.stride[i]!) - 1) * first!.stride[i]!),
      stride: first!.stride.map((j, i) => j / a.stride[i]!),
      start: first!.start.map((s, i) => s + ((a.padBefore[i]! - (f[i]! - 1) / 2) / a.stride[i]!) * first!.stride[i]!),
    };
  },
  lower(ctx, layer, a, [x]) {
    const w = ownedParam(ctx, layer, 'weight');
    const inShape = ctx.b.shape(x!);
    const outShape = [inShape[0]!, a.filters, ...layer.shape.slice(0, -1)];
    const y = ctx.b.add({ op: 'conv_grad_input', rank: a.rank, stride: a.stride, padBefore: a.padBefore, padAfter: a.padAfter, dilation: a.dilation }, [x!, w], outShape);
    return a.bias ? ctx.b.biasAdd(y, ownedParam(ctx, layer, 'bias')) : y;
  },
  onnx: (e, a) =>
    e.node('ConvTranspose', weightedInputs(e, a), { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...a.padAfter], dilations: a.dilation, output_padding: a.outputPadding }),
  pytorch(t, a) {
    const module = `nn.ConvTranspose${a.rank}d(${channelsOf(t.layer.inputShapes[0]!)}, ${a.filters}, ${t.py(a.kernel)}, stride=${t.py(a.stride)}, padding=${t.py(a.padBefore)}, output_padding=${t.py(a.outputPadding)}, bias=${t.py(a.bias)}, dilation=${t.py(a.dilation)})`;
    return { module, value: `${t.m}(${t.x})` };
  },
};
