// `cnnc graph FILE [--model NAME] [--set k=v]... [-o OUT.svg]`: the network as an SVG diagram.

import { existsSync } from 'node:fs';
import { renderDiagram } from '../compiler/diagram.ts';
import { hasErrors } from '../compiler/diagnostics.ts';
import { compileModel } from '../compiler/program.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, parseCommandLine, parseOverrides, printDiagnostics, UsageError, writeFileAtomic } from './io.ts';

export async function runGraph(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    model: { type: 'string' },
    set: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length !== 1) throw new UsageError('cnnc graph takes one .cnn file');
  const [file] = positionals;
  if (!existsSync(file)) {
    process.stderr.write(`cnnc graph: cannot read ${file}: no such file\n`);
    return EXIT_USAGE;
  }
  const result = compileModel({ file, model: values.model, overrides: parseOverrides(values.set) });
  printDiagnostics(result.diagnostics);
  if (hasErrors(result.diagnostics) || !result.graph) return EXIT_ERRORS;
  const svg = renderDiagram(result.graph);
  if (values.output) writeFileAtomic(values.output, svg);
  else process.stdout.write(svg);
  return EXIT_OK;
}
