// Layers that keep their input's shape: activations, dropout, L2 normalisation.

import { messages } from '../../grammar/diagnostics.ts';
import type { OnnxEmitter } from '../export/onnx/layer-form.ts';
import type { AttrsOf } from '../graph.ts';
import { ArgReader } from './arguments.ts';
import { noArithmetic, opName, sameField, type LayerDefinition, type LayerType, type LoweringContext, type NoFields } from './definition.ts';

export interface LeakyReluFields {
  readonly alpha: number;
}

export interface DropoutFields {
  readonly rate: number;
}

type Activation = 'relu' | 'tanh' | 'sigmoid' | 'softmax' | 'linear' | 'l2_normalize' | 'abs';

/** The parts every shape-keeping layer shares. */
const keepsShape = { inputs: 'one', inPlace: true, display: opName, arithmetic: noArithmetic, receptiveField: sameField } as const;

/** How an activation computes: in IR, as ONNX nodes, as a PyTorch expression of its input `x`. */
interface ActivationForms {
  lower(ctx: LoweringContext, x: number): number;
  onnx(e: OnnxEmitter): void;
  pytorch(x: string): string;
}

/** One ONNX node on the layer's input. */
const onnxNode =
  (op: string, attrs: Readonly<Record<string, number>> = {}) =>
  (e: OnnxEmitter): void =>
    e.node(op, e.inputs, attrs);

function activation<K extends Activation>(op: K, doc: string, output: string, forms: ActivationForms): LayerDefinition<K, NoFields> {
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
    lower: (ctx, _layer, _a, [x]) => forms.lower(ctx, x!),
    onnx: (e) => forms.onnx(e),
    pytorch: (t) => ({ value: forms.pytorch(t.x) }),
  };
}

export const relu = activation('relu', 'max(0, x), elementwise.', 'unchanged', {
  lower: (ctx, x) => ctx.b.unary('relu', x),
  onnx: onnxNode('Relu'),
  pytorch: (x) => `torch.relu(${x})`,
});
export const tanh = activation('tanh', 'Hyperbolic tangent, elementwise.', 'unchanged', {
  lower: (ctx, x) => ctx.b.unary('tanh', x),
  onnx: onnxNode('Tanh'),
  pytorch: (x) => `torch.tanh(${x})`,
});
export const sigmoid = activation('sigmoid', '1 / (1 + e^-x), elementwise.', 'unchanged', {
  lower: (ctx, x) => ctx.b.unary('sigmoid', x),
  onnx: onnxNode('Sigmoid'),
  pytorch: (x) => `torch.sigmoid(${x})`,
});
export const softmax = activation('softmax', 'Softmax over the last axis.', 'unchanged (softmax over the last axis)', {
  lower: (ctx, x) => ctx.b.add({ op: 'softmax', axis: 1 }, [x], ctx.b.shape(x)),
  onnx: onnxNode('Softmax', { axis: 1 }),
  pytorch: (x) => `torch.softmax(${x}, 1)`,
});
export const linear = activation('linear', 'The identity: marks a layer with no activation.', 'unchanged', {
  lower: (_ctx, x) => x,
  onnx: onnxNode('Identity'),
  pytorch: (x) => x,
});
// Not in place: the norm needs the whole input before any output is written.
export const l2Normalize: LayerDefinition<'l2_normalize', NoFields> = {
  ...activation('l2_normalize', 'x / ||x|| over the last axis (FaceNet embeddings).', 'unchanged, unit norm over the last axis', {
    lower: (ctx, x) => ctx.b.add({ op: 'l2_normalize', axis: 1, eps: 1e-12 }, [x], ctx.b.shape(x)),
    // x / max(||x||, 1e-12) over the channel axis, as the IR's l2_normalize.
    onnx(e) {
      e.node('ReduceL2', e.inputs, { axes: [1], keepdims: 1 }, `${e.out}/norm`);
      e.node('Max', [`${e.out}/norm`, e.constant('eps', [1e-12], 'float', [])], {}, `${e.out}/clamped`);
      e.node('Div', [e.inputs[0]!, `${e.out}/clamped`]);
    },
    pytorch: (x) => `F.normalize(${x}, dim=1, eps=1e-12)`,
  }),
  inPlace: false,
};
const absBase = activation('abs', '|x|, elementwise (the Siamese distance |f(a) - f(b)|).', 'unchanged', {
  lower: (ctx, x) => ctx.b.unary('abs', x),
  onnx: onnxNode('Abs'),
  pytorch: (x) => `torch.abs(${x})`,
});
export const abs: LayerDefinition<'abs', NoFields> = { ...absBase, reference: { ...absBase.reference, example: '`abs(a - b)`' } };

export const leakyRelu: LayerDefinition<'leaky_relu', LeakyReluFields> = {
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
  onnx: (e, a) => e.node('LeakyRelu', e.inputs, { alpha: { float: a.alpha } }),
  pytorch: (t, a) => ({ value: `F.leaky_relu(${t.x}, ${a.alpha})` }),
};

export const dropout: LayerDefinition<'dropout', DropoutFields> = {
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
  // Inference graph: the identity.
  onnx: (e) => e.node('Identity', e.inputs),
  pytorch: (t, a) => ({ value: `F.dropout(${t.x}, ${a.rate}, self.training)` }),
};
