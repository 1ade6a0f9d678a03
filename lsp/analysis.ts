// One analysis per document version: parse, imports, and every model of the file expanded and
// shape-checked. Editor features read it; nothing is recomputed until the text changes.

import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SourceFile } from '../grammar/ast.ts';
import type { Diagnostic } from '../grammar/diagnostics.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { checkFile, type Program, type ReadText } from '../compiler/program.ts';

export interface OpenDocument {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
}

export interface Analysis {
  readonly uri: string;
  /** Absolute path: the `file` of every span that points into this document. */
  readonly path: string;
  readonly version: number;
  readonly text: string;
  readonly source: SourceFile;
  readonly program: Program;
  readonly diagnostics: readonly Diagnostic[];
  readonly graphs: readonly ModelGraph[];
}

export function uriToPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : resolve(uri);
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * How long one check may take in the editor. Checks run beside the server (check-thread.ts) and
 * the next edit cancels them, so this bounds only how long a huge model keeps its own diagnostics
 * waiting.
 */
export const CHECK_BUDGET_MS = 1000;

/** What a check finds: plain data, so it can come from another thread. */
export type CheckResult = ReturnType<typeof checkFile>;

export function analyse(doc: OpenDocument, readText?: ReadText, budgetMs = CHECK_BUDGET_MS): Analysis {
  return toAnalysis(doc, checkFile(uriToPath(doc.uri), doc.text, readText, budgetMs));
}

export function toAnalysis(doc: OpenDocument, { program, diagnostics, graphs }: CheckResult): Analysis {
  const path = uriToPath(doc.uri);
  const source = program.files.get(program.root)?.source ?? { file: path, text: doc.text, declarations: [] };
  return { uri: doc.uri, path, version: doc.version, text: doc.text, source, program, diagnostics, graphs };
}
