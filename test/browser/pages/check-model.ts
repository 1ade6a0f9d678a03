// Page module: parses and shape-checks a .cnn model with the repository's front end, as bundled
// for the browser (grammar/ and compiler/checker/, without compiler/program.ts, which reads files
// with node:fs), and returns its summary. The test compares it with Node's compileModel.

import type { BlockDecl, ModelDecl } from '../../../grammar/ast.ts';
import { expandModel } from '../../../compiler/checker/expand.ts';
import { formatDiagnostic } from '../../../grammar/diagnostics.ts';
import { summarize, type ModelSummary } from '../../../compiler/summary.ts';
import { parseSource } from '../../../grammar/index.ts';

export interface CheckArgs {
  readonly file: string;
  readonly text: string;
  readonly model: string;
}

export interface CheckReport {
  readonly diagnostics: readonly string[];
  readonly summary?: ModelSummary;
  readonly ms: number;
}

export default function checkModel(args: CheckArgs): CheckReport {
  const t0 = performance.now();
  const parsed = parseSource(args.text, args.file);
  const blocks = new Map<string, BlockDecl>();
  const models = new Map<string, ModelDecl>();
  for (const decl of parsed.source.declarations) {
    if (decl.kind === 'block') blocks.set(decl.name.name, decl);
    if (decl.kind === 'model') models.set(decl.name.name, decl);
  }
  const model = models.get(args.model);
  if (model === undefined) throw new Error(`no model '${args.model}' in ${args.file}: ${[...models.keys()].join(', ')}`);
  const expanded = expandModel(model, { blocks });
  const diagnostics = [...parsed.diagnostics, ...expanded.diagnostics].map(formatDiagnostic);
  const summary = expanded.graph ? summarize(expanded.graph) : undefined;
  return { diagnostics, summary, ms: performance.now() - t0 };
}
