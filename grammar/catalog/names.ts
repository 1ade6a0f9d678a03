// CNN1xx: names and declarations (unknown, duplicated, used too early, recursive, unreadable
// imports, the model to check, inputs) and the limits of expansion.

import { didYouMeanHint, exampleModel, message, type CodeEntry } from './entry.ts';

export const NAMES = {
  unknownName: {
    code: 'CNN100',
    severity: 'error',
    title: 'A name that is not a layer, block, value or keyword in scope.',
    example: { source: exampleModel('  cnov 8, 3x3') },
    messages: {
      /** A layer, block or function name in a chain (`what`: `layer or block`, `layer`). */
      callee: message(
        (p: { what: string; name: string; guess?: string }) => `unknown ${p.what} '${p.name}'`,
        didYouMeanHint,
        (p) => `Change to '${p.guess ?? p.name}'`,
      ),
      value: message((p: { name: string; guess?: string }) => `unknown name '${p.name}'`, didYouMeanHint),
      block: message(
        (p: { name: string; guess?: string; blocks: readonly string[] }) => `unknown block '${p.name}'`,
        (p) => didYouMeanHint(p) ?? (p.blocks.length > 0 ? `blocks: ${p.blocks.join(', ')}` : 'declare it with `block name(params)(x) { ... }`'),
      ),
      /** `encoder.conv_1`: `guess` is the whole suggested path. */
      layerPath: message((p: { path: string; guess?: string }) => `no layer '${p.path}'`, didYouMeanHint),
      loss: message(
        (p: { name: string; guess?: string; losses: readonly string[] }) => `unknown loss '${p.name}'`,
        (p) => didYouMeanHint(p) ?? `losses: ${p.losses.join(', ')}`,
      ),
      freezeTarget: message((p: { path: string; guess?: string }) => `nothing named '${p.path}' to freeze`, didYouMeanHint),
      modelParameter: message((p: { model: string; name: string; guess?: string }) => `model ${p.model} has no parameter '${p.name}' (from --set)`, didYouMeanHint),
    },
  },
  duplicateName: {
    code: 'CNN101',
    severity: 'error',
    title: 'Two layers, values, declarations or parameters with one name.',
    example: { source: exampleModel('  conv 8, 3x3 as c1\n  conv 8, 3x3 as c1') },
    messages: {
      /** `owner`: `block b`, `model M`. */
      parameter: message(
        (p: { owner: string; name: string; firstColumn: number }) => `${p.owner} has two parameters or inputs named '${p.name}' (the first at column ${p.firstColumn})`,
        () => 'rename one of them',
      ),
      declaration: message((p: { name: string; file: string; line: number }) => `'${p.name}' is already declared at ${p.file}:${p.line}`),
      value: message((p: { name: string; line: number }) => `'${p.name}' is already defined at line ${p.line}`, () => 'pick another name'),
      input: message((p: { name: string }) => `'${p.name}' is already defined`),
      layer: message((p: { name: string }) => `a layer named '${p.name}' already exists`, () => 'layer names must be unique; pick another name'),
      blockInstance: message((p: { name: string }) => `'${p.name}' is already defined`, () => 'pick another name with `as`'),
    },
  },
  useBeforeDefinition: {
    code: 'CNN102',
    severity: 'error',
    title: 'A value used above the line that defines it.',
    example: { source: exampleModel('  a = b -> relu\n  b = x -> relu') },
    messages: {
      value: message(
        (p: { name: string; definedAtLine: number }) => `'${p.name}' is used before it is defined (line ${p.definedAtLine}); values flow top to bottom, so this would be a cycle`,
        () => 'move the definition above this line',
      ),
    },
  },
  recursiveBlock: {
    code: 'CNN103',
    severity: 'error',
    title: 'A block that applies itself, directly or through others.',
    example: { source: `block a()(x) {\n  return x -> a()\n}\n${exampleModel('  a()')}` },
    messages: {
      /** `cycle`: the blocks in order, `a -> b -> a`. */
      block: message(
        (p: { block: string; cycle: string }) => `block ${p.block} uses itself (${p.cycle}); blocks cannot be recursive`,
        () => 'unroll it with `repeat` or `for`',
      ),
    },
  },
  importFailed: {
    code: 'CNN104',
    severity: 'error',
    title: 'An import that cannot be read (missing, or a folder).',
    example: { source: `import "./missing.cnn"\n${exampleModel('  relu')}` },
    messages: {
      /** `stdlib`: the standard library's files, when the import names one of them. */
      import: message(
        (p: { target: string; reason: string; stdlib?: readonly string[] }) => `cannot import '${p.target}': ${p.reason}`,
        (p) => (p.stdlib ? `the standard library has: ${p.stdlib.join(', ')}` : undefined),
      ),
      root: message((p: { file: string; reason: string }) => `cannot read ${p.file}: ${p.reason}`),
    },
  },
  unknownModel: {
    code: 'CNN105',
    severity: 'error',
    title: '`--model` names no model of the file.',
    example: { source: exampleModel('  relu'), model: 'Lenet' },
    messages: {
      named: message(
        (p: { model: string; file: string; guess?: string; models: readonly string[] }) => `no model '${p.model}' in ${p.file}`,
        (p) => didYouMeanHint(p) ?? `models: ${p.models.join(', ') || 'none'}`,
      ),
      none: message((p: { file: string }) => `${p.file} declares no model`),
      /** A bundler plugin's guard: a file that checked without errors and still gave no model. */
      notBuilt: message((p: { file: string }) => `no model was built from ${p.file}`),
    },
  },
  noInput: {
    code: 'CNN106',
    severity: 'error',
    title: 'A model without an input, or a layer with nothing before it.',
    example: { source: 'model M {\n  flatten\n}\n' },
    messages: {
      model: message((p: { model: string }) => `model ${p.model} has no input`, () => 'declare one, e.g. `input image: 32 x 32 x 3`'),
      layer: message(
        (p: { op: string }) => `${p.op} has no input: nothing comes before it`,
        () => 'declare an `input` first, or start the line from a named value: `x -> ...`',
      ),
    },
  },
  tooLarge: {
    code: 'CNN107',
    severity: 'error',
    title: 'The model expands past a limit (layers, statements, block nesting) as loops and blocks multiply.',
    example: { source: exampleModel('  repeat 100000 { repeat 100000 { relu } }') },
    messages: {
      deadline: message(
        (p: { ms: number }) => `checking stopped after ${p.ms} ms: this model is too large to check as you type`,
        () => 'run `cnnc check` on the file for the full result',
      ),
      statements: message(
        (p: { max: number }) => `the model expands to more than ${p.max.toLocaleString('en-US')} statements (loops and blocks multiply)`,
        () => 'lower a repeat count or a loop range',
      ),
      layers: message((p: { max: number }) => `the model expands to more than ${p.max.toLocaleString('en-US')} layers`, () => 'lower a repeat count, or apply blocks fewer times'),
      /** `outer`: the outermost block applied; `inner`: the one past the limit. */
      blockDepth: message(
        (p: { max: number; outer: string; inner: string }) => `blocks nested deeper than ${p.max} levels (${p.outer} -> ... -> ${p.inner})`,
        () => 'flatten some blocks into their callers',
      ),
    },
  },
} as const satisfies Record<string, CodeEntry>;
