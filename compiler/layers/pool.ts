// Max and average pooling over 1, 2 or 3 spatial axes, windowed and global.

// Generic over the op: tsc cannot see that `{ op }` of type K is AttrsOf<K>, hence the casts.
import { messages } from '../../grammar/diagnostics.ts';
import type { AttrsOf, LayerNode, SpatialRank } from '../graph.ts';
import { resolvePadding } from '../checker/output-size.ts';
import { samePads, torchPad, type TorchForm, type TorchLayer } from '../export/pytorch/layer-form.ts';
import type { OnnxEmitter } from '../export/onnx/layer-form.ts';
import { windowField } from '../receptive-field.ts';
import { spatialAxes } from '../lower/layout.ts';
import { ArgReader } from './arguments.ts';
import { wholeField, noArithmetic, opName, type LayerAttrsOf, type LayerDefinition, type LayerType, type LoweringContext, type NoFields } from './definition.ts';
import { describeWindow, outputSpatial, PAD_WORDS, POOL_ROUNDING, readPadding, readRounding, spatialRank, windowArithmetic, type Window } from './spatial.ts';

export interface PoolFields {
  readonly rank: SpatialRank;
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
  /** Output size rounding: floor (default) or ceil (Caffe, torchvision ceil_mode). */
  readonly ceil: boolean;
}

type PoolAttrs = LayerAttrsOf<'maxpool' | 'avgpool', PoolFields>;

function poolOnnx(e: OnnxEmitter, a: PoolAttrs): void {
  const inSizes = e.layer.inputShapes[0]!.slice(0, a.rank);
  const outSizes = e.layer.shape.slice(0, a.rank);
  // Ceil rounding becomes explicit padding after each axis: the extra cells are skipped by max
  // and not counted by the average (count_include_pad 0), which is what rounding up means here.
  const padAfter = outSizes.map((o, i) => Math.max(a.padAfter[i]!, (o - 1) * a.stride[i]! + a.kernel[i]! - inSizes[i]! - a.padBefore[i]!));
  const attrs = { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...padAfter] };
  if (a.op === 'maxpool') e.node('MaxPool', e.inputs, attrs);
  else e.node('AveragePool', e.inputs, { ...attrs, count_include_pad: 0 });
}

function poolPytorch(t: TorchLayer, a: PoolAttrs): TorchForm {
  const symmetric = samePads(a.padBefore, a.padAfter);
  if (a.op === 'maxpool') {
    const input = symmetric ? t.x : `F.pad(${t.x}, ${t.py(torchPad(a.padBefore, a.padAfter))}, value=float('-inf'))`;
    const pad = symmetric ? a.padBefore : a.kernel.map(() => 0);
    return { value: `F.max_pool${a.rank}d(${input}, ${t.py(a.kernel)}, ${t.py(a.stride)}, ${t.py(pad)}, ceil_mode=${t.py(a.ceil)})` };
  }
  if (!symmetric) {
    // PyTorch pads both sides alike: pad explicitly, and divide the window sums by the counts of
    // real (unpadded) elements, which cnnc's average excludes padding by.
    const pool = (x: string): string => `F.avg_pool${a.rank}d(F.pad(${x}, ${t.py(torchPad(a.padBefore, a.padAfter))}), ${t.py(a.kernel)}, ${t.py(a.stride)}, 0, ceil_mode=${t.py(a.ceil)})`;
    return { value: `${pool(t.x)} / ${pool(`torch.ones_like(${t.x}[:1, :1])`)}` };
  }
  return { value: `F.avg_pool${a.rank}d(${t.x}, ${t.py(a.kernel)}, ${t.py(a.stride)}, ${t.py(a.padBefore)}, ceil_mode=${t.py(a.ceil)}, count_include_pad=False)` };
}

function pool<K extends 'maxpool' | 'avgpool'>(op: K, what: string): LayerDefinition<K, PoolFields> {
  return {
    names: [op, `${op}1d`, `${op}2d`, `${op}3d`],
    inputs: 'one',
    keywords: ['stride', 'pad', 'round'],
    keywordWords: { pad: PAD_WORDS, round: POOL_ROUNDING },
    signature: `${op} f x f [, stride s] [, pad p | same | valid] [, round floor | ceil]`,
    doc: `${what} pooling (1D, 2D or 3D from the input). Stride defaults to the window size; \`round ceil\` rounds the output size up as Caffe and torchvision ceil_mode do.${op === 'avgpool' ? ' Average pooling divides by the number of input (not padding) values in the window.' : ''}`,
    reference: { example: `\`${op} 2x2, stride 2, round ceil\``, output: 'each spatial axis by the rule; C channels', parameters: '0', macs: '0' },
    inPlace: false,
    type(ctx): LayerType<K> | undefined {
      const [input] = ctx.inputs;
      const rank = spatialRank(ctx, input);
      if (!rank) return undefined;
      const reader = new ArgReader(ctx);
      const kernelArg = reader.arg('kernel');
      if (!kernelArg) {
        reader.fail(ctx.span, messages.wrongArguments.poolNeeds({ op: ctx.op }));
        return undefined;
      }
      const kernel = reader.sizes(kernelArg, 'window', rank);
      const stride = reader.optionalSizes('stride', rank, kernel);
      const padding = readPadding(reader, reader.keyword('pad'), rank);
      const rounding = readRounding(reader, POOL_ROUNDING);
      if (!reader.finish() || !kernel || !stride || !padding || !rounding) return undefined;
      const spatial = input.value.shape.slice(0, -1);
      const { before, after } = resolvePadding(padding, spatial, kernel, stride);
      const w: Window = { kernel, effective: kernel, stride, padBefore: before, padAfter: after, dilation: kernel.map(() => 1) };
      const out = outputSpatial(ctx, input, w, rounding, describeWindow(ctx.op, w), padding);
      if (!out) return undefined;
      const channels = input.value.shape[input.value.shape.length - 1];
      const fields: PoolFields = { rank, kernel, stride, padBefore: before, padAfter: after, ceil: rounding.mode === 'ceil' };
      return { attrs: { op, ...fields } as AttrsOf<K>, shape: [...out, channels], params: [], macs: 0 };
    },
    display: (a) => `${a.op}${a.rank}d`,
    arithmetic: (a, input) => windowArithmetic(input, { ...a, dilation: a.kernel.map(() => 1) }, a.ceil),
    receptiveField: (a, [first]) => windowField(first, a.kernel, a.stride, a.padBefore),
    lower: (ctx, _layer, a, [x]) =>
      ctx.b.pool(x!, { mode: a.op === 'maxpool' ? 'max' : 'avg', rank: a.rank, kernel: a.kernel, stride: a.stride, padBefore: a.padBefore, padAfter: a.padAfter }, a.ceil),
    onnx: poolOnnx,
    pytorch: poolPytorch,
  };
}

export const maxpool = pool('maxpool', 'Max');
export const avgpool = pool('avgpool', 'Average');

/** How a global pool computes: in IR, and the ONNX reduction and PyTorch method over the spatial axes. */
interface GlobalPoolForms {
  lower(ctx: LoweringContext, x: number): number;
  readonly onnx: 'ReduceMean' | 'ReduceMax';
  readonly pytorch: 'mean' | 'amax';
}

function globalPool<K extends 'global_avgpool' | 'global_maxpool'>(op: K, what: string, forms: GlobalPoolForms): LayerDefinition<K, NoFields> {
  return {
    names: [op],
    inputs: 'one',
    keywords: [],
    signature: op,
    doc: `${what} over every spatial position: L x C, H x W x C or D x H x W x C to a vector of C.`,
    reference: { example: `\`${op}\``, output: '`C`', parameters: '0', macs: '0' },
    inPlace: false,
    type(ctx): LayerType<K> | undefined {
      const [input] = ctx.inputs;
      if (!spatialRank(ctx, input) || !new ArgReader(ctx).finish()) return undefined;
      const shape = input.value.shape;
      return { attrs: { op } as AttrsOf<K>, shape: [shape[shape.length - 1]], params: [], macs: 0 };
    },
    display: opName,
    arithmetic: noArithmetic,
    receptiveField: wholeField,
    lower: (ctx, _layer: LayerNode, _a, [x]) => forms.lower(ctx, x!),
    onnx(e) {
      const rank = e.layer.inputShapes[0]!.length + 1;
      e.node(forms.onnx, e.inputs, { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: 0 });
    },
    pytorch: (t) => ({ value: `${t.x}.${forms.pytorch}(dim=${t.py(t.layer.inputShapes[0]!.slice(1).map((_, i) => i + 2))})` }),
  };
}

export const globalAvgpool = globalPool('global_avgpool', 'Average', {
  lower: (ctx, x) => ctx.b.reduce('mean', x, spatialAxes(ctx.b.shape(x).length)),
  onnx: 'ReduceMean',
  pytorch: 'mean',
});

export const globalMaxpool = globalPool('global_maxpool', 'Maximum', {
  lower(ctx, x) {
    const s = ctx.b.shape(x);
    const spatial = s.slice(2);
    const zeros = spatial.map(() => 0);
    const p = ctx.b.pool(x, { mode: 'max', rank: spatial.length as 1 | 2 | 3, kernel: spatial, stride: spatial.map(() => 1), padBefore: zeros, padAfter: zeros });
    return ctx.b.reshape(p, [s[0]!, s[1]!]);
  },
  onnx: 'ReduceMax',
  pytorch: 'amax',
});
