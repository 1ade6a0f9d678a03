// `cnnc graph FILE [--model NAME] [--set k=v]... [-o OUT.svg]`: the network as an SVG diagram.

import { renderDiagram } from '../compiler/diagram.ts';
import { parseCommand } from './command.ts';
import { GRAPH } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';

export async function runGraph(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(GRAPH, argv);
  if (positionals.length !== 1) throw new UsageError('cnnc graph takes one .cnn file');
  const graph = compileForRun(positionals[0], values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const svg = renderDiagram(graph);
  if (values.output) writeFileAtomic(values.output, svg);
  else process.stdout.write(svg);
  return EXIT_OK;
}
