// Max and average pooling over 1, 2 or 3 spatial axes, windowed and global.

// Generic over the op: tsc cannot see that `{ op }` of type K is AttrsOf<K>, hence the casts.
import { messages } from '../../grammar/diagnostics.ts';
import type { AttrsOf, LayerNode, PoolFields } from '../graph.ts';
import { resolvePadding } from '../checker/output-size.ts';
import { windowField } from '../receptive-field.ts';
import { spatialAxes } from '../lower/layout.ts';
import { ArgReader } from './arguments.ts';
import { wholeField, noArithmetic, opName, type LayerDefinition, type LayerType, type LoweringContext } from './definition.ts';
import { describeWindow, outputSpatial, PAD_WORDS, POOL_ROUNDING, readPadding, readRounding, spatialRank, windowArithmetic, type Window } from './spatial.ts';

function pool<K extends 'maxpool' | 'avgpool'>(op: K, what: string): LayerDefinition<K> {
  const base = op === 'maxpool' ? 'maxpool' : 'avgpool';
  return {
    names: [base, `${base}1d`, `${base}2d`, `${base}3d`],
    inputs: 'one',
    keywords: ['stride', 'pad', 'round'],
    keywordWords: { pad: PAD_WORDS, round: POOL_ROUNDING },
    signature: `${base} f x f [, stride s] [, pad p | same | valid] [, round floor | ceil]`,
    doc: `${what} pooling (1D, 2D or 3D from the input). Stride defaults to the window size; \`round ceil\` rounds the output size up as Caffe and torchvision ceil_mode do.${op === 'avgpool' ? ' Average pooling divides by the number of input (not padding) values in the window.' : ''}`,
    reference: { example: `\`${base} 2x2, stride 2, round ceil\``, output: 'each spatial axis by the rule; C channels', parameters: '0', macs: '0' },
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
  };
}

export const maxpool = pool('maxpool', 'Max');
export const avgpool = pool('avgpool', 'Average');

function globalPool<K extends 'global_avgpool' | 'global_maxpool'>(op: K, what: string, lower: (ctx: LoweringContext, x: number) => number): LayerDefinition<K> {
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
    lower: (ctx, _layer: LayerNode, _a, [x]) => lower(ctx, x!),
  };
}

export const globalAvgpool = globalPool('global_avgpool', 'Average', (ctx, x) => ctx.b.reduce('mean', x, spatialAxes(ctx.b.shape(x).length)));

export const globalMaxpool = globalPool('global_maxpool', 'Maximum', (ctx, x) => {
  const s = ctx.b.shape(x);
  const spatial = s.slice(2);
  const zeros = spatial.map(() => 0);
  const p = ctx.b.pool(x, { mode: 'max', rank: spatial.length as 1 | 2 | 3, kernel: spatial, stride: spatial.map(() => 1), padBefore: zeros, padAfter: zeros });
  return ctx.b.reshape(p, [s[0]!, s[1]!]);
});
