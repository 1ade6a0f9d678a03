// Layers with several inputs: residual `add` and channel `concat` (inception, YOLO passthrough).

import { messages } from '../../grammar/diagnostics.ts';
import type { ReceptiveField } from '../receptive-field.ts';
import { ArgReader } from './arguments.ts';
import { noArithmetic, opName, type LayerDefinition, type LayerType } from './definition.ts';

/** Merged branches: a unit sees the union of its inputs' views; the widest one bounds it. */
function widestField(_attrs: unknown, inputs: readonly ReceptiveField[]): ReceptiveField | undefined {
  return inputs.reduce((w, f) => (f.size[0]! > w.size[0]! ? f : w));
}

/** The parts every merge shares. */
const merges = { inputs: 'many', keywords: [], inPlace: false, display: opName, arithmetic: noArithmetic, receptiveField: widestField } as const;

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const add: LayerDefinition<'add'> = {
  ...merges,
  names: ['add'],
  reference: { example: '`add(a, b)`, `y + x`', output: 'the common shape (all must match)', parameters: '0', macs: '0' },
  signature: 'add(a, b, ...) or a + b',
  doc: 'Elementwise sum of tensors of one shape: the residual connection.',
  type(ctx): LayerType<'add'> | undefined {
    if (!new ArgReader(ctx).finish()) return undefined;
    const [first, ...rest] = ctx.inputs;
    for (const other of rest) {
      const a = first.value.shape;
      const b = other.value.shape;
      if (sameArray(a, b)) continue;
      ctx.report(ctx.span, messages.shapeMismatch.add({ first: first.value, other: other.value }));
      return undefined;
    }
    return { attrs: { op: 'add' }, shape: first.value.shape, params: [], macs: 0 };
  },
  lower: (ctx, _layer, _a, xs) => xs.slice(1).reduce((acc, x) => ctx.b.binary('add', acc, x), xs[0]!),
};

export const subtract: LayerDefinition<'subtract'> = {
  ...merges,
  names: ['subtract'],
  reference: { example: '`subtract(a, b)`, `a - b`', output: 'the common shape', parameters: '0', macs: '0' },
  signature: 'subtract(a, b) or a - b',
  doc: 'Elementwise difference of two tensors of one shape.',
  type(ctx): LayerType<'subtract'> | undefined {
    if (!new ArgReader(ctx).finish()) return undefined;
    const [a, b, ...rest] = ctx.inputs;
    if (rest.length > 0) {
      ctx.report(ctx.span, messages.wrongArguments.subtractInputs({ got: ctx.inputs.length }));
      return undefined;
    }
    if (!sameArray(a.value.shape, b.value.shape)) {
      ctx.report(ctx.span, messages.shapeMismatch.subtract({ a: a.value, b: b.value }));
      return undefined;
    }
    return { attrs: { op: 'subtract' }, shape: a.value.shape, params: [], macs: 0 };
  },
  lower: (ctx, _layer, _a, [a, b]) => ctx.b.binary('sub', a!, b!),
};

export const concat: LayerDefinition<'concat'> = {
  ...merges,
  names: ['concat'],
  reference: { example: '`concat(a, b)`', output: 'spatial axes must match; channels summed', parameters: '0', macs: '0' },
  signature: 'concat(a, b, ...)',
  doc: 'Joins tensors along the channel (last) axis; every other axis must match.',
  type(ctx): LayerType<'concat'> | undefined {
    if (!new ArgReader(ctx).finish()) return undefined;
    const [first, ...rest] = ctx.inputs;
    let channels = first.value.shape[first.value.shape.length - 1];
    for (const other of rest) {
      const a = first.value.shape.slice(0, -1);
      const b = other.value.shape.slice(0, -1);
      if (first.value.shape.length !== other.value.shape.length || !sameArray(a, b)) {
        ctx.report(ctx.span, messages.shapeMismatch.concat({ first: first.value, other: other.value }));
        return undefined;
      }
      channels += other.value.shape[other.value.shape.length - 1];
    }
    return { attrs: { op: 'concat' }, shape: [...first.value.shape.slice(0, -1), channels], params: [], macs: 0 };
  },
  lower: (ctx, _layer, _a, xs) => ctx.b.concat(xs, 1),
};
