// `cnnc graph FILE [--model NAME] [--set k=v]... [--expand | --depth N] [-o OUT.svg|OUT.png]`:
// the network as a diagram, SVG (or PNG, rendered by headless Chromium).

import { renderDiagram } from '../compiler/diagram.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { GRAPH } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';

function depthOf(expand: boolean | undefined, depth: string | undefined): number {
  if (expand) return Infinity;
  if (depth === undefined) return 1;
  const n = Number(depth);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--depth needs a whole number of at least 1, got '${depth}'`);
  return n;
}

export async function runGraph(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(GRAPH, argv);
  expectOneFile(GRAPH, positionals);
  if (values.expand && values.depth !== undefined) throw new UsageError('give --expand or --depth, not both');
  const depth = depthOf(values.expand, values.depth);
  const graph = compileForRun(positionals[0]!, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const svg = await renderDiagram(graph, { depth });
  const out = values.output;
  if (out?.toLowerCase().endsWith('.png')) {
    const { svgToPng } = await import('./svg-to-png.ts');
    writeFileAtomic(out, await svgToPng(svg));
  } else if (out !== undefined) writeFileAtomic(out, svg);
  else process.stdout.write(svg);
  return EXIT_OK;
}
