// CNN2xx: arguments and values (what a layer, block or loss takes; whole numbers; division by
// zero; values of the wrong kind; numbers too large to be exact). `got` is a value as written
// back to the user (`3.5`, `3x3`, `a 28x28x1 tensor`); `op` the layer's name as written.

import { didYouMeanHint, exampleModel, message, type CodeEntry } from './entry.ts';

const sizes = (values: readonly number[]): string => values.join('x');

export const VALUES = {
  wrongArguments: {
    code: 'CNN200',
    severity: 'error',
    title: 'Arguments a layer, block or loss does not take, or a value out of its range.',
    example: { source: exampleModel('  conv 8, 3x3, padding same') },
    messages: {
      modelParameterDefault: message((p: { name: string }) => `model parameter '${p.name}' has no default; give one, or set it with --set ${p.name}=VALUE`),
      returnInModel: message(() => '`return` belongs in a block; a model ends with its last layer or an `output` line'),
      modelStatementInBlock: message((p: { statement: string }) => `\`${p.statement}\` belongs in a model, not in a block`),
      inputInBlock: message(() => 'inputs are declared in a model; a block takes its inputs in its header, `block name(params)(x)`'),
      loopTooLong: message((p: { count: number; max: number }) => `a loop of ${p.count} iterations is over the limit of ${p.max}`),
      oneInput: message((p: { op: string; got: number }) => `${p.op} takes one input, got ${p.got}`),
      manyInputs: message((p: { op: string; got: number }) => `${p.op} combines two or more tensors, got ${p.got}`, (p) => `write \`${p.op}(a, b)\``),
      subtractInputs: message((p: { got: number }) => `subtract takes two tensors, got ${p.got}`),
      blockInputs: message((p: { block: string; inputs: readonly string[]; got: number }) => `block ${p.block} takes ${p.inputs.length} input(s) (${p.inputs.join(', ')}), got ${p.got}`),
      blockOutput: message((p: { block: string }) => `block ${p.block} produces nothing`),
      /** `signature`: `name(a, b)` as declared. */
      blockParameters: message((p: { signature: string; expected: number; got: number }) => `block ${p.signature} takes ${p.expected} parameter(s), got ${p.got}`),
      blockParameterMissing: message((p: { signature: string; parameter: string }) => `block ${p.signature} needs a value for '${p.parameter}'`),
      blockNeedsInput: message(
        (p: { block: string }) => `block ${p.block}(...) needs an input: use it in a chain (\`x -> ${p.block}(...)\`) or write \`${p.block}(...)(x)\``,
      ),
      atLeast: message((p: { what: string; min: number; got: number }) => `${p.what} must be at least ${p.min}, got ${p.got}`),
      lossOption: message((p: { loss: string; option: string; signature: string }) => `${p.loss} takes no option '${p.option}'`, (p) => `signature: ${p.signature}`),
      lossArity: message(
        (p: { loss: string; min: number; max: number; got: number; signature: string }) => `${p.loss} takes ${p.min === p.max ? p.min : `${p.min} to ${p.max}`} tensor(s), got ${p.got}`,
        (p) => `signature: ${p.signature}`,
      ),
      // A layer's own arguments, prefixed with the layer's name as written.
      convNeeds: message((p: { op: string }) => `${p.op} needs a filter count and a kernel size, e.g. \`${p.op} 32, 3x3\``),
      convTransposeNeeds: message((p: { op: string }) => `${p.op} needs a filter count and a kernel size, e.g. \`${p.op} 16, 2x2, stride 2\``),
      denseNeeds: message((p: { op: string }) => `${p.op} needs a unit count, e.g. \`dense 120\``),
      poolNeeds: message((p: { op: string }) => `${p.op} needs a window size, e.g. \`${p.op} 2x2, stride 2\``),
      reshapeNeeds: message(() => 'reshape needs a target shape, e.g. `reshape 7 x 7 x 64`'),
      zeroPadNeeds: message(() => 'zero_pad needs an amount, e.g. `zero_pad 1` or `zero_pad before 0, after 1`'),
      keywordTwice: message((p: { op: string; keyword: string }) => `${p.op}: keyword '${p.keyword}' given twice`),
      /** `known`: the keywords the layer reads, for a hint when nothing is close. */
      unknownKeyword: message(
        (p: { op: string; keyword: string; guess?: string; known: readonly string[] }) => `${p.op} takes no keyword '${p.keyword}'`,
        (p) => didYouMeanHint(p) ?? (p.known.length > 0 ? `its keywords: ${p.known.join(', ')}` : undefined),
      ),
      unexpectedArgument: message((p: { op: string; got: string }) => `${p.op}: unexpected argument ${p.got}`),
      layerNumber: message((p: { op: string; what: string; got: string }) => `${p.op}: ${p.what} must be a number, got ${p.got}`),
      layerAtLeast: message((p: { op: string; what: string; min: number; got: string }) => `${p.op}: ${p.what} must be at least ${p.min}, got ${p.got}`),
      /** A size argument that is not one: the message shows a size of the input's rank. */
      layerSize: message((p: { op: string; what: string; rank: number; got: string }) => `${p.op}: ${p.what} must be a size like ${sizes(Array<number>(p.rank).fill(3))}, got ${p.got}`),
      layerSizeAxes: message(
        (p: { op: string; what: string; sizes: readonly number[]; rank: number }) => `${p.op}: ${p.what} ${sizes(p.sizes)} has ${p.sizes.length} axes, the input has ${p.rank} spatial axes`,
      ),
      layerChoice: message((p: { op: string; what: string; allowed: readonly string[]; got: string }) => `${p.op}: ${p.what} must be one of ${p.allowed.join(', ')}, got ${p.got}`),
      zeroPadBoth: message(() => 'zero_pad takes either an amount for both sides or `before` and `after`, not both'),
      outputPadding: message(
        (p: { op: string; outputPadding: readonly number[]; stride: readonly number[] }) => `${p.op}: output_padding ${sizes(p.outputPadding)} must be smaller than the stride ${sizes(p.stride)}`,
        () => 'output padding picks one of the s sizes a stride-s convolution maps back to the input size',
      ),
      dropoutRate: message((p: { rate: number }) => `dropout rate must be in [0, 1), got ${p.rate}`),
    },
  },
  notAnInteger: {
    code: 'CNN201',
    severity: 'error',
    title: 'A whole number was expected.',
    example: { source: exampleModel('  conv 10 / 4, 3x3') },
    messages: {
      inputSizes: message((p: { sizes: readonly number[] }) => `input sizes must be whole numbers, got ${sizes(p.sizes)}`),
      value: message((p: { what: string; got: string }) => `${p.what} must be a whole number, got ${p.got}`),
      layerValue: message((p: { op: string; what: string; got: string }) => `${p.op}: ${p.what} must be a whole number, got ${p.got}`),
      layerSizes: message((p: { op: string; what: string; sizes: readonly number[] }) => `${p.op}: ${p.what} must be whole numbers, got ${sizes(p.sizes)}`),
    },
  },
  divisionByZero: {
    code: 'CNN202',
    severity: 'error',
    title: 'Integer arithmetic divides by zero.',
    example: { source: exampleModel('  conv 8 / 0, 3x3') },
    messages: {
      /** `operator`: `/` or `%`. */
      arithmetic: message((p: { left: number; operator: string; right: number }) => `division by zero: ${p.left} ${p.operator} ${p.right}`),
      lossWeight: message(() => 'division by zero in the loss weight'),
    },
  },
  wrongValueKind: {
    code: 'CNN203',
    severity: 'error',
    title: 'A value of the wrong kind: a tensor where a number belongs, a string, a layer as a value.',
    example: { source: exampleModel('  conv 8, 3x3, stride "two"') },
    messages: {
      inputShape: message((p: { got: string }) => `an input shape is sizes like 32 x 32 x 3, got ${p.got}`),
      shareNeedsBlock: message(() => '`share` takes a block with its parameters, e.g. `share encoder = facenet_encoder(128)`'),
      numberAsStep: message((p: { name: string; value: string }) => `'${p.name}' is the number ${p.value}, not a tensor or a layer`),
      tensorAsStep: message(
        (p: { name: string }) => `'${p.name}' is a tensor, not a layer; a chain can only start from a tensor`,
        (p) => `to combine it, use \`add(${p.name})\` or \`concat(${p.name})\``,
      ),
      chainStep: message((p: { got: string }) => `a chain step must be a layer or a tensor, got ${p.got}`),
      blockParameter: message((p: { parameter: string; signature: string; got: string }) => `parameter '${p.parameter}' of ${p.signature} is a number, got ${p.got}`),
      tensor: message((p: { what: string; got: string }) => `${p.what} must be a tensor, got ${p.got}`),
      number: message((p: { what: string; got: string }) => `${p.what} must be a number, got ${p.got}`),
      numberList: message((p: { what: string; got: string }) => `${p.what} must be numbers written a x b x ..., got ${p.got}`),
      string: message(() => 'strings are only used in `import` lines'),
      sharedBlock: message((p: { name: string }) => `'${p.name}' is a shared block; apply it to an input: \`${p.name}(x)\``),
      negate: message((p: { got: string }) => `cannot negate ${p.got}`),
      size: message((p: { got: string }) => `a size must be a number, got ${p.got}`),
      layerPath: message(() => 'expected `instance.layer`'),
      layerAsValue: message((p: { op: string }) => `a layer (${p.op}) cannot be used as a value here; give it an input with \`->\``),
      tensorOperator: message((p: { operator: string }) => `tensors can be added or subtracted, not combined with '${p.operator}'`),
      arithmetic: message((p: { left: string; operator: string; right: string }) => `cannot compute ${p.left} ${p.operator} ${p.right}`),
      notCallable: message(() => 'only layers and blocks can be called'),
      lossAsLayer: message((p: { loss: string }) => `${p.loss} is a loss term; use it in a \`loss\` line`),
      lossWeight: message((p: { got: string }) => `a loss weight must be a number, got ${p.got}`),
      freezeTarget: message(() => 'freeze takes layer or block-instance names'),
    },
  },
  numberOutOfRange: {
    code: 'CNN204',
    severity: 'error',
    title: 'A number beyond 2^53 (no longer exact) or one that overflows to infinity.',
    example: { source: exampleModel('  batchnorm eps 1e999') },
    messages: {
      /** `written`: the number as the file spells it. */
      infinite: message((p: { written: string }) => `${p.written} is too large to be a number (it overflows to infinity)`),
      inexact: message(
        (p: { written: string }) => `${p.written} is beyond 2^53 (9,007,199,254,740,991), where whole numbers are no longer exact`,
        () => 'no size or setting needs a number this large',
      ),
    },
  },
} as const satisfies Record<string, CodeEntry>;
