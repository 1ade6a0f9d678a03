// Fully connected layers and batch normalisation: the two per-feature parameterised layers.

import { messages } from '../../grammar/diagnostics.ts';
import { weightedInputs } from '../export/onnx/layer-form.ts';
import { channelsOf } from '../export/pytorch/layer-form.ts';
import { allBut, IrError } from '../ir/build.ts';
import { ArgReader, FLAG_WORDS } from './arguments.ts';
import { noArithmetic, opName, ownedName, ownedParam, sameField, wholeField, type LayerDefinition, type LayerType } from './definition.ts';

export interface DenseFields {
  readonly units: number;
  readonly bias: boolean;
}

export interface BatchnormFields {
  readonly eps: number;
  readonly momentum: number;
}

export const dense: LayerDefinition<'dense', DenseFields> = {
  names: ['dense'],
  inputs: 'one',
  keywords: ['bias'],
  keywordWords: { bias: FLAG_WORDS },
  signature: 'dense units [, bias on | off]',
  doc: 'Fully connected layer: a vector of n to a vector of `units`; (n + 1) * units parameters with bias.',
  reference: { example: '`dense 120, bias on`', output: '`units` (input must be a vector)', parameters: '`(n + 1) * units`', macs: '`n * units`' },
  inPlace: false,
  type(ctx): LayerType<'dense'> | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const unitsArg = reader.arg('units');
    if (!unitsArg) {
      reader.fail(ctx.span, messages.wrongArguments.denseNeeds({ op: ctx.op }));
      return undefined;
    }
    const units = reader.integer(unitsArg, 'unit count');
    const bias = reader.optionalFlag('bias', true);
    if (!reader.finish() || !units || bias === undefined) return undefined;
    if (input.value.shape.length !== 1) {
      const line = { ...ctx.span, endOffset: ctx.span.startOffset, endColumn: ctx.span.startColumn };
      ctx.report(ctx.opSpan, messages.denseNeedsVector.image({ input: input.value }), { span: line, text: 'flatten -> ' });
      return undefined;
    }
    const n = input.value.shape[0];
    const params: LayerType['params'][number][] = [{ role: 'weight', shape: [units, n] }];
    if (bias) params.push({ role: 'bias', shape: [units] });
    return { attrs: { op: 'dense', units, bias }, shape: [units], params, macs: n * units };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: wholeField,
  lower(ctx, layer, a, [x]) {
    if (ctx.b.shape(x!).length !== 2) throw new IrError(`dense ${layer.name}: input [${ctx.b.shape(x!).join(', ')}] is not a vector`);
    const y = ctx.b.matmul(x!, ownedParam(ctx, layer, 'weight'), false, true);
    return a.bias ? ctx.b.biasAdd(y, ownedParam(ctx, layer, 'bias')) : y;
  },
  onnx: (e, a) => e.node('Gemm', weightedInputs(e, a), { transB: 1 }),
  pytorch: (t, a) => ({ module: `nn.Linear(${t.layer.inputShapes[0]![0]}, ${a.units}, bias=${t.py(a.bias)})`, value: `${t.m}(${t.x})` }),
};

export const batchnorm: LayerDefinition<'batchnorm', BatchnormFields> = {
  names: ['batchnorm'],
  inputs: 'one',
  keywords: ['eps', 'momentum'],
  signature: 'batchnorm [eps 1e-5] [, momentum 0.1]',
  doc: 'Batch normalisation over the last (channel) axis: gamma and beta are trained, the running mean and variance are not (4C parameters, 2C trainable, as Keras counts). Momentum follows PyTorch: running = (1 - m) running + m batch.',
  reference: { example: '`batchnorm eps 1e-5, momentum 0.1`', output: 'unchanged', parameters: '`4C` (gamma, beta trainable; running mean and variance not)', macs: '0' },
  inPlace: false,
  type(ctx): LayerType<'batchnorm'> | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const eps = reader.optionalNumber('eps', 1e-5);
    const momentum = reader.optionalNumber('momentum', 0.1);
    if (!reader.finish() || eps === undefined || momentum === undefined) return undefined;
    const c = input.value.shape[input.value.shape.length - 1];
    if (c === undefined) {
      ctx.report(ctx.opSpan, messages.wrongRank.batchnorm({ input: input.value }));
      return undefined;
    }
    return {
      attrs: { op: 'batchnorm', eps, momentum },
      shape: input.value.shape,
      params: [
        { role: 'gamma', shape: [c] },
        { role: 'beta', shape: [c] },
        { role: 'running_mean', shape: [c] },
        { role: 'running_var', shape: [c] },
      ],
      macs: 0,
    };
  },
  display: opName,
  arithmetic: noArithmetic,
  receptiveField: sameField,
  lower(ctx, layer, { eps, momentum }, [x]) {
    const b = ctx.b;
    const shape = b.shape(x!);
    const gamma = ownedParam(ctx, layer, 'gamma');
    const beta = ownedParam(ctx, layer, 'beta');
    const meanName = ownedName(ctx, layer, 'running_mean');
    const varName = ownedName(ctx, layer, 'running_var');
    const rm = ctx.state(meanName);
    const rv = ctx.state(varName);
    // Frozen batchnorm runs in inference mode (Keras' transfer-learning convention).
    if (ctx.mode === 'eval' || layer.frozen) return b.add({ op: 'batchnorm', eps }, [x!, rm, rv, gamma, beta], shape);
    const axes = allBut(shape.length, 1);
    const count = shape.reduce((p, d, i) => (i === 1 ? p : p * d), 1);
    const mean = b.reduce('mean', x!, axes);
    // PyTorch: normalise with the biased variance, track the unbiased one.
    const unbiased = b.affine(b.reduce('var', x!, axes), count / Math.max(1, count - 1), 0);
    if (layer.paramOwner === layer.name || !ctx.updates.some((u) => u.name === meanName)) {
      ctx.updates.push({ name: meanName, value: b.axpby(1 - momentum, rm, momentum, mean) });
      ctx.updates.push({ name: varName, value: b.axpby(1 - momentum, rv, momentum, unbiased) });
    }
    return b.add({ op: 'batchnorm_train', eps }, [x!, gamma, beta], shape);
  },
  // Inference form: normalised with the running statistics.
  onnx: (e, a) => e.node('BatchNormalization', [e.inputs[0]!, e.param('gamma'), e.param('beta'), e.param('running_mean'), e.param('running_var')], { epsilon: { float: a.eps } }),
  pytorch(t, a) {
    const input = t.layer.inputShapes[0]!;
    // BatchNorm1d/2d/3d by the input's rank: vectors and signals 1d, images 2d, volumes 3d.
    const module = `nn.BatchNorm${Math.max(1, input.length - 1)}d(${channelsOf(input)}, eps=${a.eps}, momentum=${a.momentum})`;
    // A frozen batchnorm normalises with its running statistics, in training too (as cnnc).
    const m = t.m;
    const value = t.layer.frozen ? `F.batch_norm(${t.x}, ${m}.running_mean, ${m}.running_var, ${m}.weight, ${m}.bias, False, 0.0, ${m}.eps)` : `${m}(${t.x})`;
    return { module, value };
  },
};
