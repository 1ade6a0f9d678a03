// Every command's description (arguments, summary, options with their help) and how to load it.
// main.ts answers `--help` and `cnnc --help` from here without loading any command module.

import { defineCommand, type CommandSpec } from './command.ts';

const MODEL = { type: 'string', arg: 'NAME', help: 'model in FILE (default: the first)' } as const;
const SET = { type: 'string', multiple: true, arg: 'k=v', help: 'model parameter, e.g. --set channels=1' } as const;
const BACKEND = { type: 'string', arg: 'B', help: 'auto | webgpu | wasm | cpu (default auto: a hardware GPU, else wasm)' } as const;
const DATA_SPECS = 'data specs: fashion-mnist | fashion-mnist-bundled | idx:IMAGES,LABELS | folder:PATH[@HxWxC] | safetensors:PATH';

export const CHECK = defineCommand({
  name: 'check',
  args: 'FILE...',
  summary: 'Diagnostics of every model in each file; exit 0 clean, 1 errors, 2 usage or I/O.',
  options: {},
  load: async () => (await import('./check.ts')).runCheck,
});

export const SUMMARY = defineCommand({
  name: 'summary',
  args: 'FILE',
  summary: 'Per layer: output shape, parameters, multiply-accumulates, activation memory; totals.',
  options: { model: MODEL, set: SET, json: { type: 'boolean', help: 'machine-readable JSON instead of the table' } },
  load: async () => (await import('./summary.ts')).runSummary,
});

export const GRAPH = defineCommand({
  name: 'graph',
  args: 'FILE',
  summary: 'The network as an SVG diagram.',
  options: { model: MODEL, set: SET, output: { type: 'string', short: 'o', arg: 'OUT.svg', help: 'write here instead of stdout' } },
  load: async () => (await import('./graph.ts')).runGraph,
});

export const GRAD = defineCommand({
  name: 'grad',
  args: 'FILE --weights W --input X [--labels Y] --out G',
  summary: 'Loss and every gradient of one batch, all tensors in safetensors.',
  options: {
    weights: { type: 'string', arg: 'W', help: 'weights (safetensors)' },
    input: { type: 'string', arg: 'X', help: 'input batch (safetensors)' },
    labels: { type: 'string', arg: 'Y', help: 'loss targets (safetensors)' },
    out: { type: 'string', arg: 'G', help: 'where to write the loss and gradients' },
    backend: { type: 'string', arg: 'B', help: 'cpu | wasm | webgpu (default cpu)' },
    model: MODEL,
    set: SET,
    seed: { type: 'string', arg: 'N', help: 'dropout seed, an integer in [0, 2^24) (default 0)' },
  },
  load: async () => (await import('./grad.ts')).runGrad,
});

export const TRAIN = defineCommand({
  name: 'train',
  args: 'FILE --data SPEC [options]',
  summary: 'Training with a progress bar, a checkpoint each epoch, --resume; Ctrl-C saves.',
  options: {
    model: MODEL,
    set: SET,
    data: { type: 'string', arg: 'SPEC', help: 'the training data (see below)' },
    epochs: { type: 'string', arg: 'N', help: '(default 5)' },
    batch: { type: 'string', arg: 'N', help: '(default 64)' },
    lr: { type: 'string', arg: 'X', help: 'learning rate (default 0.01)' },
    optimizer: { type: 'string', arg: 'NAME', help: 'sgd | momentum | rmsprop | adam (default momentum)' },
    momentum: { type: 'string', arg: 'X', help: '(default 0.9)' },
    'weight-decay': { type: 'string', arg: 'X', help: 'L2 weight decay (default 0)' },
    schedule: { type: 'string', arg: 'S', help: 'constant | step:EVERY:GAMMA | cosine (default constant)' },
    augment: { type: 'string', arg: 'LIST', help: 'mirror,crop,rotate,shear,color (comma-separated)' },
    workers: { type: 'string', arg: 'N', help: 'threads preparing batches beside training (default 1 with --augment, else 0)' },
    limit: { type: 'string', arg: 'N', help: 'train on the first N examples only' },
    weights: { type: 'string', arg: 'FILE', help: 'start from pretrained weights (by name; a replaced head is reported and skipped)' },
    'freeze-until': { type: 'string', arg: 'LAYER', help: 'freeze every layer up to and including LAYER' },
    'cache-trunk': { type: 'string', arg: 'DIR', help: "with --freeze-until: compute the frozen layers' activations once (kept in DIR) and train only the rest on them" },
    out: { type: 'string', arg: 'FILE', help: 'checkpoint, written after each epoch (default out/<model>.safetensors)' },
    resume: { type: 'string', arg: 'FILE', help: 'continue exactly from a checkpoint' },
    backend: BACKEND,
    seed: { type: 'string', arg: 'N', help: '(default 0)' },
  },
  notes: DATA_SPECS,
  load: async () => (await import('./train.ts')).runTrain,
});

const INFERENCE_OPTIONS = {
  model: MODEL,
  set: SET,
  weights: { type: 'string', multiple: true, arg: 'W', help: 'trained weights; several make an ensemble' },
  backend: BACKEND,
  batch: { type: 'string', arg: 'N', help: 'examples per run (default 64)' },
  'ten-crop': { type: 'boolean', help: 'average the four corners, the centre and their mirrors' },
} as const;

export const EVAL = defineCommand({
  name: 'eval',
  args: 'FILE --weights W --data SPEC',
  summary: 'Loss, accuracy and confusion matrix on held-out data.',
  options: { ...INFERENCE_OPTIONS, data: { type: 'string', arg: 'SPEC', help: 'the data (its test split where it has one)' }, limit: { type: 'string', arg: 'N', help: 'evaluate the first N examples only' } },
  notes: DATA_SPECS,
  load: async () => (await import('./infer.ts')).runEval,
});

export const PREDICT = defineCommand({
  name: 'predict',
  args: 'FILE --weights W IMAGE...',
  summary: 'The top-k classes of PNG or JPEG images.',
  options: {
    ...INFERENCE_OPTIONS,
    top: { type: 'string', arg: 'K', help: 'classes to show per image (default 5)' },
    'class-names': { type: 'string', arg: 'LIST', help: 'comma-separated class names, or fashion-mnist' },
  },
  load: async () => (await import('./infer.ts')).runPredict,
});

export const BUILD = defineCommand({
  name: 'build',
  args: 'FILE -o DIR',
  summary: 'A bundle: a readable TypeScript module, its WGSL kernels and a manifest.',
  options: {
    model: MODEL,
    set: SET,
    batch: { type: 'string', arg: 'N', help: 'examples per step (default 32)' },
    optimizer: { type: 'string', arg: 'O', help: 'sgd | momentum | rmsprop | adam (default momentum)' },
    lr: { type: 'string', arg: 'X', help: 'learning rate (default 0.01)' },
    target: { type: 'string', arg: 'T', help: 'software (register tiles, the default) | gpu (tiles staged through workgroup memory)' },
    runtime: { type: 'string', arg: 'S', help: "where the module imports cnnc's runtime from (default cnnc/runtime)" },
    out: { type: 'string', short: 'o', arg: 'DIR', help: 'output folder' },
  },
  load: async () => (await import('./build.ts')).runBuild,
});

export const FMT = defineCommand({
  name: 'fmt',
  args: 'FILE|DIR...',
  summary: 'Formats .cnn files (prints the result unless --check or --write).',
  options: {
    check: { type: 'boolean', help: 'exit 1 if a file is not formatted' },
    write: { type: 'boolean', help: 'rewrite the files in place' },
  },
  load: async () => (await import('./fmt.ts')).runFmt,
});

export const LSP = defineCommand({
  name: 'lsp',
  args: '[--stdio]',
  summary: 'The language server over stdio.',
  options: {
    stdio: { type: 'boolean', help: 'talk over stdin and stdout (the only transport; accepted for editors that pass it)' },
    debounce: { type: 'string', arg: 'MS', help: 'milliseconds to wait after an edit before checking' },
  },
  load: async () => (await import('./lsp.ts')).runLsp,
});

/** In the order `cnnc --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [CHECK, SUMMARY, GRAPH, TRAIN, EVAL, PREDICT, GRAD, BUILD, FMT, LSP];
