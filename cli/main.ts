// `cnnc COMMAND ...`: dispatches to one module per command and turns usage errors into exit 2.

import { readFileSync } from 'node:fs';
import { runCheck } from './check.ts';
import { EXIT_OK, EXIT_USAGE } from './io.ts';
import { runGrad } from './grad.ts';
import { runGraph } from './graph.ts';
import { runEval, runPredict } from './infer.ts';
import { runSummary } from './summary.ts';
import { runTrain } from './train.ts';

type Command = (argv: string[]) => Promise<number>;

/** Error classes (by name) that describe bad input rather than a bug in cnnc. */
const USER_ERRORS = new Set(['UsageError', 'DataError', 'IdxError', 'SafetensorsError', 'CheckpointError', 'SessionError', 'NoWebGpuError', 'DeviceLimitError', 'RngStateError', 'BundleBuildError', 'GraphSplitError']);

const COMMANDS: Record<string, { run: () => Promise<Command>; help: string }> = {
  check: { run: async () => runCheck, help: 'check FILE...                      diagnostics; exit 0 clean, 1 errors, 2 usage or I/O' },
  summary: { run: async () => runSummary, help: 'summary FILE [--model M] [--set k=v]... [--json]   layers, parameters, MACs, memory' },
  grad: { run: async () => runGrad, help: 'grad FILE --weights W --input X [--labels Y] --out G [--backend cpu|webgpu]   loss and gradients of one batch' },
  train: { run: async () => runTrain, help: 'train FILE --data SPEC [--epochs N --batch N --lr X --optimizer O ...]   see cnnc train --help' },
  build: { run: async () => (await import('./build.ts')).runBuild, help: 'build FILE -o DIR [--model M] [--set k=v]... [--batch N] [--optimizer O] [--lr X]   a bundle: TypeScript module, WGSL kernels, manifest' },
  eval: { run: async () => runEval, help: 'eval FILE --weights W [--weights W2 ...] --data SPEC [--ten-crop]   loss, accuracy, confusion matrix' },
  predict: { run: async () => runPredict, help: 'predict FILE --weights W IMAGE... [--top K] [--ten-crop] [--class-names LIST|fashion-mnist]   top-k classes' },
  fmt: { run: async () => (await import('./fmt.ts')).runFmt, help: 'fmt FILE|DIR... [--check|--write]   format .cnn files' },
  lsp: { run: async () => (await import('./lsp.ts')).runLsp, help: 'lsp [--stdio]   language server over stdio' },
  graph: { run: async () => runGraph, help: 'graph FILE [--model M] [--set k=v]... [-o OUT.svg]  the network as an SVG diagram' },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  cnnc ${c.help}`);
  return `usage: cnnc <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`cnnc ${pkg.version}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`cnnc: unknown command '${name}'\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (await command.run())(rest);
  } catch (e) {
    // Bad input (usage, files, data, weights, devices) is the user's to fix: the message, no stack.
    if (e instanceof Error && USER_ERRORS.has(e.name)) {
      process.stderr.write(`cnnc ${name}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
