// `cnnc summary FILE [--model NAME] [--set k=v]... [--json]`

import { formatSummary, summarize } from '../compiler/summary.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { SUMMARY } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK } from './io.ts';
import { compileForRun } from './model-input.ts';

export async function runSummary(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SUMMARY, argv);
  expectOneFile(SUMMARY, positionals);
  const [file] = positionals;
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const summary = summarize(graph);
  if (values.json) {
    const { doc: _doc, ...rest } = summary;
    const json = { ...rest, layers: summary.layers.map(({ doc: _d, ...l }) => l) };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatSummary(summary, file)}\n`);
  }
  return EXIT_OK;
}
