// Layers that keep their input's shape: activations, dropout, L2 normalisation.

import type { PlainAttrs } from '../graph.ts';
import { ArgReader, type LayerSpec, type LayerType } from './definition.ts';

function activation(op: PlainAttrs['op'], doc: string): LayerSpec {
  return {
    inputs: 'one',
    keywords: [],
    signature: op,
    doc,
    type(ctx): LayerType | undefined {
      if (!new ArgReader(ctx).finish()) return undefined;
      return { attrs: { op }, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
    },
  };
}

export const relu = activation('relu', 'max(0, x), elementwise.');
export const tanh = activation('tanh', 'Hyperbolic tangent, elementwise.');
export const sigmoid = activation('sigmoid', '1 / (1 + e^-x), elementwise.');
export const softmax = activation('softmax', 'Softmax over the last axis.');
export const linear = activation('linear', 'The identity: marks a layer with no activation.');
export const l2Normalize = activation('l2_normalize', 'x / ||x|| over the last axis (FaceNet embeddings).');
export const abs = activation('abs', '|x|, elementwise (the Siamese distance |f(a) - f(b)|).');

export const leakyRelu: LayerSpec = {
  inputs: 'one',
  keywords: ['alpha'],
  signature: 'leaky_relu [alpha 0.01]',
  doc: 'max(x, alpha x), elementwise; YOLO uses alpha 0.1.',
  type(ctx): LayerType | undefined {
    const reader = new ArgReader(ctx);
    const alphaArg = reader.arg('alpha');
    const alpha = alphaArg ? reader.number(alphaArg, 'alpha') : 0.01;
    if (!reader.finish() || alpha === undefined) return undefined;
    return { attrs: { op: 'leaky_relu', alpha }, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
  },
};

export const dropout: LayerSpec = {
  inputs: 'one',
  keywords: ['rate'],
  signature: 'dropout rate',
  doc: 'Zeroes each value with probability `rate` in training and scales the rest by 1/(1 - rate); the identity at inference.',
  type(ctx): LayerType | undefined {
    const reader = new ArgReader(ctx);
    const rateArg = reader.arg('rate');
    const rate = rateArg ? reader.number(rateArg, 'rate') : 0.5;
    if (!reader.finish() || rate === undefined) return undefined;
    if (rate < 0 || rate >= 1) {
      ctx.report('wrongArguments', rateArg?.span ?? ctx.span, `dropout rate must be in [0, 1), got ${rate}`);
      return undefined;
    }
    return { attrs: { op: 'dropout', rate }, shape: ctx.inputs[0].value.shape, params: [], macs: 0 };
  },
};
