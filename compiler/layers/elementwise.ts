// Layers that keep their input's shape: activations, dropout, L2 normalisation.

import { messages } from '../../grammar/diagnostics.ts';
import type { AttrsOf } from '../graph.ts';
import { ArgReader } from './arguments.ts';
import { noArithmetic, opName, sameField, type LayerDefinition, type LayerType, type LoweringContext } from './definition.ts';

type Activation = 'relu' | 'tanh' | 'sigmoid' | 'softmax' | 'linear' | 'l2_normalize' | 'abs';

/** The parts every shape-keeping layer shares. */
const keepsShape = { inputs: 'one', inPlace: true, display: opName, arithmetic: noArithmetic, receptiveField: sameField } as const;

function activation<K extends Activation>(op: K, doc: string, output: string, lower: (ctx: LoweringContext, x: number) => number): LayerDefinition<K> {
  return {
    ...keepsShape,
    names: [op],
    keywords: [],
    signature: op,
    doc,
    reference: { example: `\`${op}\``, output, parameters: '0', macs: '0' },
    type(ctx): LayerType<K> | undefined {
      if (!new ArgReader(ctx).finish()) return undefined;
      return { attrs: { op } as AttrsOf<K>, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
    },
    lower: (ctx, _layer, _a, [x]) => lower(ctx, x!),
  };
}

export const relu = activation('relu', 'max(0, x), elementwise.', 'unchanged', (ctx, x) => ctx.b.unary('relu', x));
export const tanh = activation('tanh', 'Hyperbolic tangent, elementwise.', 'unchanged', (ctx, x) => ctx.b.unary('tanh', x));
export const sigmoid = activation('sigmoid', '1 / (1 + e^-x), elementwise.', 'unchanged', (ctx, x) => ctx.b.unary('sigmoid', x));
export const softmax = activation('softmax', 'Softmax over the last axis.', 'unchanged (softmax over the last axis)', (ctx, x) => ctx.b.add({ op: 'softmax', axis: 1 }, [x], ctx.b.shape(x)));
export const linear = activation('linear', 'The identity: marks a layer with no activation.', 'unchanged', (_ctx, x) => x);
// Not in place: the norm needs the whole input before any output is written.
export const l2Normalize: LayerDefinition<'l2_normalize'> = {
  ...activation('l2_normalize', 'x / ||x|| over the last axis (FaceNet embeddings).', 'unchanged, unit norm over the last axis', (ctx, x) =>
    ctx.b.add({ op: 'l2_normalize', axis: 1, eps: 1e-12 }, [x], ctx.b.shape(x)),
  ),
  inPlace: false,
};
const absBase = activation('abs', '|x|, elementwise (the Siamese distance |f(a) - f(b)|).', 'unchanged', (ctx, x) => ctx.b.unary('abs', x));
export const abs: LayerDefinition<'abs'> = { ...absBase, reference: { ...absBase.reference, example: '`abs(a - b)`' } };

export const leakyRelu: LayerDefinition<'leaky_relu'> = {
  ...keepsShape,
  names: ['leaky_relu'],
  keywords: ['alpha'],
  signature: 'leaky_relu [alpha 0.01]',
  doc: 'max(x, alpha x), elementwise; YOLO uses alpha 0.1.',
  reference: { example: '`leaky_relu 0.1`', output: 'unchanged', parameters: '0', macs: '0' },
  type(ctx): LayerType<'leaky_relu'> | undefined {
    const reader = new ArgReader(ctx);
    const alphaArg = reader.arg('alpha');
    const alpha = alphaArg ? reader.number(alphaArg, 'alpha') : 0.01;
    if (!reader.finish() || alpha === undefined) return undefined;
    return { attrs: { op: 'leaky_relu', alpha }, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
  },
  lower: (ctx, _layer, a, [x]) => ctx.b.unary('leaky_relu', x!, a.alpha),
};

export const dropout: LayerDefinition<'dropout'> = {
  ...keepsShape,
  names: ['dropout'],
  keywords: ['rate'],
  signature: 'dropout rate',
  doc: 'Zeroes each value with probability `rate` in training and scales the rest by 1/(1 - rate); the identity at inference.',
  reference: { example: '`dropout 0.5`', output: 'unchanged', parameters: '0', macs: '0' },
  type(ctx): LayerType<'dropout'> | undefined {
    const reader = new ArgReader(ctx);
    const rateArg = reader.arg('rate');
    const rate = rateArg ? reader.number(rateArg, 'rate') : 0.5;
    if (!reader.finish() || rate === undefined) return undefined;
    if (rate < 0 || rate >= 1) {
      ctx.report(rateArg?.span ?? ctx.span, messages.wrongArguments.dropoutRate({ rate }));
      return undefined;
    }
    return { attrs: { op: 'dropout', rate }, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
  },
  lower(ctx, layer, a, [x]) {
    if (ctx.mode === 'eval' || a.rate === 0) return x!;
    const mask = ctx.b.add({ op: 'dropout_mask', rate: a.rate, salt: ctx.salt(layer) }, [ctx.seed()], ctx.b.shape(x!));
    return ctx.b.binary('mul', x!, mask);
  },
};
