// Layers with several inputs: residual `add` and channel `concat` (inception, YOLO passthrough).

import { ArgReader, describeInput, type LayerSpec, type LayerType } from './definition.ts';
import { formatShape } from '../checker/values.ts';

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const add: LayerSpec = {
  inputs: 'many',
  keywords: [],
  signature: 'add(a, b, ...) or a + b',
  doc: 'Elementwise sum of tensors of one shape: the residual connection.',
  type(ctx): LayerType | undefined {
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
};

export const subtract: LayerSpec = {
  inputs: 'many',
  keywords: [],
  signature: 'subtract(a, b) or a - b',
  doc: 'Elementwise difference of two tensors of one shape.',
  type(ctx): LayerType | undefined {
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
};

export const concat: LayerSpec = {
  inputs: 'many',
  keywords: [],
  signature: 'concat(a, b, ...)',
  doc: 'Joins tensors along the channel (last) axis; every other axis must match.',
  type(ctx): LayerType | undefined {
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
};
