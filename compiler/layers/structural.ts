// Layers that move values without arithmetic: flatten, reshape, zero_pad, space_to_depth, upsample.

import { messages } from '../../grammar/diagnostics.ts';
import { torchPad } from '../export/pytorch/layer-form.ts';
import { irShape } from '../lower/layout.ts';
import { windowField } from '../receptive-field.ts';
import { ArgReader } from './arguments.ts';
import type { Shape } from '../graph.ts';
import { noArithmetic, opName, wholeField, type LayerDefinition, type LayerType, type NoFields } from './definition.ts';
import { product } from '../checker/values.ts';

export interface ReshapeFields {
  readonly shape: Shape;
}

export interface ZeroPadFields {
  readonly padBefore: readonly number[];
  readonly padAfter: readonly number[];
}

export interface SpaceToDepthFields {
  readonly block: number;
}

export interface UpsampleFields {
  /** Nearest-neighbour scale factor per spatial axis. */
  readonly scale: readonly number[];
}

export const flatten: LayerDefinition<'flatten', NoFields> = {
  names: ['flatten'],
  inputs: 'one',
  reference: { example: '`flatten`', output: '`prod(shape)` (channel-major, as PyTorch flattens NCHW)', parameters: '0', macs: '0' },
  inPlace: true,
  keywords: [],
  signature: 'flatten',
  doc: 'Unrolls H x W x C into a vector of H*W*C (channel-major, as PyTorch flattens NCHW).',
  type(ctx): LayerType<'flatten'> | undefined {
    if (!new ArgReader(ctx).finish()) return undefined;
    return { attrs: { op: 'flatten' }, shape: [product(ctx.inputs[0].value.shape)], params: [], macs: 0 };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: wholeField,
  lower(ctx, _layer, _a, [x]) {
    const s = ctx.b.shape(x!);
    return ctx.b.reshape(x!, [s[0]!, s.slice(1).reduce((p, d) => p * d, 1)]);
  },
  onnx: (e) => e.node('Flatten', e.inputs, { axis: 1 }),
  pytorch: (t) => ({ value: `${t.x}.flatten(1)` }),
};

export const reshape: LayerDefinition<'reshape', ReshapeFields> = {
  names: ['reshape'],
  inputs: 'one',
  reference: { example: '`reshape 7 x 7 x 64`', output: 'the given shape (same element count)', parameters: '0', macs: '0' },
  inPlace: true,
  keywords: [],
  signature: 'reshape d1 x d2 x ...',
  doc: 'Reinterprets the values in a new shape with the same number of elements.',
  type(ctx): LayerType<'reshape'> | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const shapeArg = reader.arg('shape');
    if (!shapeArg) {
      reader.fail(ctx.span, messages.wrongArguments.reshapeNeeds());
      return undefined;
    }
    const rank = shapeArg.value.kind === 'dims' ? shapeArg.value.values.length : 1;
    const shape = reader.sizes(shapeArg, 'shape', rank);
    if (!reader.finish() || !shape) return undefined;
    if (product(shape) !== product(input.value.shape)) {
      ctx.report(shapeArg.span, messages.shapeMismatch.reshape({ input: input.value, shape }));
      return undefined;
    }
    return { attrs: { op: 'reshape', shape }, shape, params: [], macs: 0 };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: wholeField,
  lower: (ctx, layer, _a, [x]) => ctx.b.reshape(x!, irShape(layer.shape, ctx.batch)),
  // 0 copies the batch dimension.
  onnx: (e) => e.node('Reshape', [e.inputs[0]!, e.constant('shape', [0, ...irShape(e.layer.shape, 1).slice(1)], 'int64')]),
  pytorch: (t) => ({ value: `${t.x}.reshape(${t.x}.shape[0], ${irShape(t.layer.shape, 1).slice(1).join(', ')})` }),
};

export const zeroPad: LayerDefinition<'zero_pad', ZeroPadFields> = {
  names: ['zero_pad'],
  inputs: 'one',
  reference: { example: '`zero_pad 1`, `zero_pad 1x2`, `zero_pad before 0, after 1`', output: 'each spatial axis `n + 2p` (or `n + before + after`)', parameters: '0', macs: '0' },
  inPlace: false,
  keywords: ['before', 'after'],
  signature: 'zero_pad p | p1 x p2 | before b, after a',
  doc: 'Adds p zeros on both sides of every spatial axis (n becomes n + 2p), or `before` zeros at the start and `after` at the end of each axis (Keras ZeroPadding2D(((top, bottom), (left, right)))).',
  type(ctx): LayerType<'zero_pad'> | undefined {
    const [input] = ctx.inputs;
    const rank = input.value.shape.length - 1;
    if (rank < 1) {
      ctx.report(ctx.opSpan, messages.wrongRank.needsSpatial({ op: 'zero_pad', input: input.value }));
      return undefined;
    }
    const reader = new ArgReader(ctx);
    const padArg = reader.nextPositional();
    const beforeArg = reader.keyword('before');
    const afterArg = reader.keyword('after');
    if (!padArg && !beforeArg && !afterArg) {
      reader.fail(ctx.span, messages.wrongArguments.zeroPadNeeds());
      return undefined;
    }
    const zeros = Array<number>(rank).fill(0);
    const both = padArg ? reader.sizes(padArg, 'padding', rank, 0) : zeros;
    const before = beforeArg ? reader.sizes(beforeArg, 'before', rank, 0) : both;
    const after = afterArg ? reader.sizes(afterArg, 'after', rank, 0) : both;
    if (padArg && (beforeArg || afterArg)) reader.fail(padArg.span, messages.wrongArguments.zeroPadBoth());
    if (!reader.finish() || !before || !after) return undefined;
    const shape = [...input.value.shape.slice(0, -1).map((n, i) => n + before[i] + after[i]), input.value.shape[rank]];
    return { attrs: { op: 'zero_pad', padBefore: before, padAfter: after }, shape, params: [], macs: 0 };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: (a, [first]) => ({ ...first, start: first.start.map((s, i) => s - a.padBefore[i]! * first.stride[i]!) }),
  lower: (ctx, _layer, a, [x]) => ctx.b.pad(x!, a.padBefore, a.padAfter),
  onnx: (e, a) => e.node('Pad', [e.inputs[0]!, e.constant('pads', [0, 0, ...a.padBefore, 0, 0, ...a.padAfter], 'int64')]),
  pytorch: (t, a) => ({ value: `F.pad(${t.x}, ${t.py(torchPad(a.padBefore, a.padAfter))})` }),
};

export const spaceToDepth: LayerDefinition<'space_to_depth', SpaceToDepthFields> = {
  names: ['space_to_depth'],
  inputs: 'one',
  reference: { example: '`space_to_depth 2`', output: '`H/b x W/b x C*b*b` (H, W divisible by b)', parameters: '0', macs: '0' },
  inPlace: false,
  keywords: [],
  signature: 'space_to_depth b',
  doc: "Moves each b x b patch into channels: H x W x C to H/b x W/b x C*b*b (YOLOv2's passthrough, TensorFlow's depth order).",
  type(ctx): LayerType<'space_to_depth'> | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const blockArg = reader.arg('block');
    const block = blockArg ? reader.integer(blockArg, 'block size') : 2;
    if (!reader.finish() || !block) return undefined;
    const [h, w, c] = input.value.shape;
    if (input.value.shape.length !== 3) {
      ctx.report(ctx.opSpan, messages.wrongRank.spaceToDepth({ input: input.value }));
      return undefined;
    }
    if (h % block !== 0 || w % block !== 0) {
      ctx.report(ctx.span, messages.shapeMismatch.spaceToDepth({ block, height: h, width: w }));
      return undefined;
    }
    return { attrs: { op: 'space_to_depth', block }, shape: [h / block, w / block, c * block * block], params: [], macs: 0 };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: (a, [first]) => {
    const b = first.size.map(() => a.block);
    return windowField(first, b, b, b.map(() => 0));
  },
  lower: (ctx, layer, a, [x]) => ctx.b.add({ op: 'space_to_depth', block: a.block }, [x!], irShape(layer.shape, ctx.batch)),
  // ONNX's SpaceToDepth orders the new channels (row offset, column offset, channel), as cnnc's;
  // model.py defines the same as a helper.
  onnx: (e, a) => e.node('SpaceToDepth', e.inputs, { blocksize: a.block }),
  pytorch: (t, a) => ({ value: `space_to_depth(${t.x}, ${a.block})` }),
};

export const upsample: LayerDefinition<'upsample', UpsampleFields> = {
  names: ['upsample'],
  inputs: 'one',
  reference: { example: '`upsample 2`', output: 'each spatial axis `n * s` (nearest neighbour)', parameters: '0', macs: '0' },
  inPlace: false,
  keywords: ['scale'],
  signature: 'upsample [scale] s | s1 x s2',
  doc: 'Nearest-neighbour upsampling: each spatial axis n becomes n * s.',
  type(ctx): LayerType<'upsample'> | undefined {
    const [input] = ctx.inputs;
    const rank = input.value.shape.length - 1;
    if (rank < 1) {
      ctx.report(ctx.opSpan, messages.wrongRank.needsSpatial({ op: 'upsample', input: input.value }));
      return undefined;
    }
    const reader = new ArgReader(ctx);
    const scaleArg = reader.arg('scale');
    const scale = scaleArg ? reader.sizes(scaleArg, 'scale', rank) : Array<number>(rank).fill(2);
    if (!reader.finish() || !scale) return undefined;
    const shape = [...input.value.shape.slice(0, -1).map((n, i) => n * scale[i]), input.value.shape[rank]];
    return { attrs: { op: 'upsample', scale }, shape, params: [], macs: 0 };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: (a, [first]) => ({ size: first.size, stride: first.stride.map((j, i) => j / a.scale[i]!), start: first.start.map((s, i) => s + (0.5 / a.scale[i]! - 0.5) * first.stride[i]!) }),
  lower: (ctx, layer, a, [x]) => ctx.b.add({ op: 'upsample', scale: a.scale }, [x!], irShape(layer.shape, ctx.batch)),
  onnx(e, a) {
    const scales = e.constant('scales', [1, 1, ...a.scale], 'float');
    e.node('Resize', [e.inputs[0]!, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  },
  pytorch: (t, a) => ({ value: `F.interpolate(${t.x}, scale_factor=${t.py(a.scale.map((s) => s * 1.0))}, mode='nearest')` }),
};
