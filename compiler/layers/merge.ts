// Layers with several inputs: residual `add` and channel `concat` (inception, YOLO passthrough).

import type { ReceptiveField } from '../receptive-field.ts';
import { ArgReader } from './arguments.ts';
import { describeInput, noArithmetic, opName, type LayerDefinition, type LayerType } from './definition.ts';
import { formatShape } from '../checker/values.ts';

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
      const parts: string[] = [];
      if (a.length !== b.length) parts.push(`rank ${a.length} vs ${b.length}`);
      else {
        const sa = a.slice(0, -1);
        const sb = b.slice(0, -1);
        if (!sameArray(sa, sb)) parts.push(`spatial ${formatShape(sa)} vs ${formatShape(sb)}`);
        if (a[a.length - 1] !== b[b.length - 1]) parts.push(`channels ${a[a.length - 1]} vs ${b[b.length - 1]}`);
      }
      let hint: string | undefined;
      if (a.length === b.length && a.length >= 2) {
        const stride = b[0] / a[0];
        const strideText = Number.isInteger(stride) && stride > 1 ? `, stride ${stride}` : '';
        hint = `project the shortcut with \`conv ${a[a.length - 1]}, 1x1${strideText}\` (a convolutional block) so that it becomes ${formatShape(a)}`;
      }
      ctx.report('shapeMismatch', ctx.span, `cannot add ${describeInput(first)} and ${describeInput(other)}: ${parts.join(', ')}`, hint);
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
      ctx.report('wrongArguments', ctx.span, `subtract takes two tensors, got ${ctx.inputs.length}`);
      return undefined;
    }
    if (!sameArray(a.value.shape, b.value.shape)) {
      ctx.report('shapeMismatch', ctx.span, `cannot subtract ${describeInput(b)} from ${describeInput(a)}: the shapes differ`);
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
        const hint = a.length === 2 && b.length === 2 && a[0] === 2 * b[0] ? `bring ${first.value.name} down with \`space_to_depth 2\` or a stride-2 layer` : undefined;
        ctx.report(
          'shapeMismatch',
          ctx.span,
          `cannot concatenate ${describeInput(first)} and ${describeInput(other)} along channels: ${a.length === b.length ? `spatial ${formatShape(a)} vs ${formatShape(b)}` : `rank ${first.value.shape.length} vs ${other.value.shape.length}`}`,
          hint,
        );
        return undefined;
      }
      channels += other.value.shape[other.value.shape.length - 1];
    }
    return { attrs: { op: 'concat' }, shape: [...first.value.shape.slice(0, -1), channels], params: [], macs: 0 };
  },
  lower: (ctx, _layer, _a, xs) => ctx.b.concat(xs, 1),
};
