// Layers with several inputs: residual `add` and channel `concat` (inception, YOLO passthrough).

import { messages } from '../../grammar/diagnostics.ts';
import type { ReceptiveField } from '../receptive-field.ts';
import { ArgReader } from './arguments.ts';
import { noArithmetic, opName, type LayerDefinition, type LayerType, type NoFields } from './definition.ts';

/** Merged branches: a unit sees the union of its inputs' views; the widest one bounds it. */
function widestField(_attrs: unknown, inputs: readonly ReceptiveField[]): ReceptiveField | undefined {
  return inputs.reduce((w, f) => (f.size[0]! > w.size[0]! ? f : w));
}

/** The parts every merge shares. */
const merges = { inputs: 'many', keywords: [], inPlace: false, display: opName, arithmetic: noArithmetic, receptiveField: widestField } as const;

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const add: LayerDefinition<'add', NoFields> = {
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
  // A chain of two-input Adds, the last one defining the layer's value.
  onnx(e) {
    let sum = e.inputs[0]!;
    e.inputs.slice(1).forEach((x, i) => {
      const out = i === e.inputs.length - 2 ? e.out : `${e.out}/sum${i + 1}`;
      e.node('Add', [sum, x], {}, out);
      sum = out;
    });
  },
  pytorch: (t) => ({ value: t.inputs.join(' + ') }),
};

export const subtract: LayerDefinition<'subtract', NoFields> = {
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
  onnx: (e) => e.node('Sub', e.inputs),
  pytorch: (t) => ({ value: `${t.inputs[0]} - ${t.inputs[1]}` }),
};

export const concat: LayerDefinition<'concat', NoFields> = {
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
  onnx: (e) => e.node('Concat', e.inputs, { axis: 1 }),
  pytorch: (t) => ({ value: `torch.cat([${t.inputs.join(', ')}], 1)` }),
};
