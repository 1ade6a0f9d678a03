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
 * How long one check may take in the editor. The server answers one message at a time, so a
 * check that ran for seconds would hold every hover and the next edit behind it.
 */
export const CHECK_BUDGET_MS = 1000;

export function analyse(doc: OpenDocument, readText?: ReadText): Analysis {
  const path = uriToPath(doc.uri);
  const { program, diagnostics, graphs } = checkFile(path, doc.text, readText, CHECK_BUDGET_MS);
  const source = program.files.get(program.root)?.source ?? { file: path, text: doc.text, declarations: [] };
  return { uri: doc.uri, path, version: doc.version, text: doc.text, source, program, diagnostics, graphs };
}

/** Analyses keyed by uri, valid for one version each. */
export class AnalysisCache {
  private readonly entries = new Map<string, Analysis>();

  constructor(private readonly readText?: ReadText) {}

  get(doc: OpenDocument): Analysis {
    const cached = this.entries.get(doc.uri);
    if (cached && cached.version === doc.version && cached.text === doc.text) return cached;
    const analysis = analyse(doc, this.readText);
    this.entries.set(doc.uri, analysis);
    return analysis;
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }

  /** Every open document's analysis is stale once another file it may import changes. */
  clear(): void {
    this.entries.clear();
  }
}
