// `cnnc summary FILE [--model NAME] [--set k=v]... [--json]`

import { existsSync } from 'node:fs';
import { hasErrors } from '../compiler/diagnostics.ts';
import { compileModel } from '../compiler/program.ts';
import { formatSummary, summarize } from '../compiler/summary.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, parseCommandLine, parseOverrides, printDiagnostics, UsageError } from './io.ts';

export async function runSummary(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    model: { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('cnnc summary takes one .cnn file');
  const [file] = positionals;
  if (!existsSync(file)) {
    process.stderr.write(`cnnc summary: cannot read ${file}: no such file\n`);
    return EXIT_USAGE;
  }
  const result = compileModel({ file, model: values.model, overrides: parseOverrides(values.set) });
  printDiagnostics(result.diagnostics);
  if (hasErrors(result.diagnostics) || !result.graph) return EXIT_ERRORS;
  const summary = summarize(result.graph);
  if (values.json) {
    const { doc: _doc, ...rest } = summary;
    const json = { ...rest, layers: summary.layers.map(({ doc: _d, ...l }) => l) };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatSummary(summary, file)}\n`);
  }
  return EXIT_OK;
}
