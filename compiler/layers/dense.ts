// Fully connected layers and batch normalisation: the two per-feature parameterised layers.

import { ArgReader, describeInput, type LayerSpec, type LayerType } from './definition.ts';
import { formatShape } from '../checker/values.ts';

export const dense: LayerSpec = {
  inputs: 'one',
  keywords: ['bias'],
  signature: 'dense units [, bias on | off]',
  doc: 'Fully connected layer: a vector of n to a vector of `units`; (n + 1) * units parameters with bias.',
  type(ctx): LayerType | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const unitsArg = reader.arg('units');
    if (!unitsArg) {
      reader.fail(ctx.span, `${ctx.op} needs a unit count, e.g. \`dense 120\``);
      return undefined;
    }
    const units = reader.integer(unitsArg, 'unit count');
    const biasArg = reader.keyword('bias');
    const bias = biasArg ? reader.flag(biasArg, 'bias') : true;
    if (!reader.finish() || !units || bias === undefined) return undefined;
    if (input.value.shape.length !== 1) {
      const line = { ...ctx.span, endOffset: ctx.span.startOffset, endColumn: ctx.span.startColumn };
      ctx.report(
        'denseNeedsVector',
        ctx.opSpan,
        `dense expects a vector, got ${describeInput(input)}`,
        `insert \`flatten\` before it (${formatShape(input.value.shape)} flattens to ${input.value.shape.reduce((a, b) => a * b, 1)})`,
        { span: line, text: 'flatten -> ', title: 'Insert `flatten` before dense' },
      );
      return undefined;
    }
    const n = input.value.shape[0];
    const params: LayerType['params'][number][] = [{ role: 'weight', shape: [units, n] }];
    if (bias) params.push({ role: 'bias', shape: [units] });
    return { attrs: { op: 'dense', units, bias }, shape: [units], params, macs: n * units };
  },
};

export const batchnorm: LayerSpec = {
  inputs: 'one',
  keywords: ['eps', 'momentum'],
  signature: 'batchnorm [, eps 1e-5] [, momentum 0.1]',
  doc: 'Batch normalisation over the last (channel) axis: gamma and beta are trained, the running mean and variance are not (4C parameters, 2C trainable, as Keras counts). Momentum follows PyTorch: running = (1 - m) running + m batch.',
  type(ctx): LayerType | undefined {
    const [input] = ctx.inputs;
    const reader = new ArgReader(ctx);
    const epsArg = reader.keyword('eps');
    const momentumArg = reader.keyword('momentum');
    const eps = epsArg ? reader.number(epsArg, 'eps') : 1e-5;
    const momentum = momentumArg ? reader.number(momentumArg, 'momentum') : 0.1;
    if (!reader.finish() || eps === undefined || momentum === undefined) return undefined;
    const c = input.value.shape[input.value.shape.length - 1];
    if (c === undefined) {
      ctx.report('wrongRank', ctx.opSpan, `batchnorm needs a channel axis, got ${describeInput(input)}`);
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
};
