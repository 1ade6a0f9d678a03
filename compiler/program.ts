// Drives the front end: reads a file and its imports, parses each once, gathers blocks and models,
// and expands a chosen model into its typed graph. This is the API the CLI, the language server,
// the benchmarks and the back end call.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSource, type ParseResult } from '../grammar/index.ts';
import type { BlockDecl, ModelDecl } from '../grammar/ast.ts';
import { CheckCancelled, expandModel } from './checker/expand.ts';
import { codeOf, diagnostic, didYouMean, messages, type Diagnostic } from '../grammar/diagnostics.ts';
import type { ModelGraph } from './graph.ts';
import { spanAt } from '../grammar/span.ts';

export const STDLIB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../stdlib');

/** Reads a file's text; the language server substitutes its open, unsaved documents. */
export type ReadText = (path: string) => string | undefined;

/** The file at `path`, or undefined when it is missing or not a regular file. */
export const readFromDisk: ReadText = (path) => (statSync(path, { throwIfNoEntry: false })?.isFile() ? readFileSync(path, 'utf8') : undefined);

/** Why a source file could not be read: missing, or a folder where a file is expected. */
export function unreadableReason(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return `${path} is a folder, not a .cnn file`;
  if (stat && !stat.isFile()) return `${path} is not a regular file`;
  return `${path}: no such file`;
}

export interface Program {
  /** The file the program was loaded from, resolved. */
  readonly root: string;
  readonly files: ReadonlyMap<string, ParseResult>;
  readonly blocks: ReadonlyMap<string, BlockDecl>;
  readonly models: ReadonlyMap<string, ModelDecl>;
  /** Lexer, parser, import and duplicate-declaration errors of every file. */
  readonly diagnostics: readonly Diagnostic[];
}

export function stdlibPath(name: string): string {
  return resolve(STDLIB_DIR, `${name}.cnn`);
}

export function loadProgram(file: string, text?: string, readText: ReadText = readFromDisk): Program {
  const root = resolve(file);
  const files = new Map<string, ParseResult>();
  const blocks = new Map<string, BlockDecl>();
  const models = new Map<string, ModelDecl>();
  const diagnostics: Diagnostic[] = [];

  const visit = (path: string, source: string) => {
    const parsed = parseSource(source, path === root ? file : path);
    files.set(path, parsed);
    for (const d of parsed.diagnostics) diagnostics.push(d);
    for (const decl of parsed.source.declarations) {
      if (decl.kind === 'import') {
        const target = decl.isStdlib ? stdlibPath(decl.target) : resolve(dirname(path), decl.target);
        if (files.has(target)) continue;
        const imported = readText(target);
        if (imported === undefined) {
          diagnostics.push(diagnostic(decl.span, messages.importFailed.import({ target: decl.target, reason: unreadableReason(target), ...(decl.isStdlib ? { stdlib: listStdlib() } : {}) })));
          continue;
        }
        visit(target, imported);
        continue;
      }
      const table: Map<string, BlockDecl | ModelDecl> = decl.kind === 'block' ? blocks : models;
      const other = (decl.kind === 'block' ? models : blocks).get(decl.name.name);
      const previous = table.get(decl.name.name) ?? other;
      if (previous) {
        // A stdlib file imported twice through different paths is the same declaration: not an error.
        if (previous.span.file !== decl.span.file || previous.span.startOffset !== decl.span.startOffset) {
          diagnostics.push(diagnostic(decl.name.span, messages.duplicateName.declaration({ name: decl.name.name, file: previous.span.file, line: previous.span.startLine })));
        }
        continue;
      }
      if (decl.kind === 'block') blocks.set(decl.name.name, decl);
      else models.set(decl.name.name, decl);
    }
  };

  const source = text ?? readText(root);
  if (source === undefined) {
    diagnostics.push(diagnostic({ file, startOffset: 0, endOffset: 0, startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 }, messages.importFailed.root({ file, reason: unreadableReason(root) })));
  } else {
    visit(root, source);
    if (source.replace(/^\uFEFF/, '').trim() === '') {
      diagnostics.push(diagnostic(spanAt(file, source, 0, 0), messages.emptyFile.empty({ file })));
    }
  }
  return { root, files, blocks, models, diagnostics };
}

export function listStdlib(): string[] {
  try {
    return readdirSync(STDLIB_DIR)
      .filter((f) => f.endsWith('.cnn'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/** Models declared in the root file itself, in source order. */
export function rootModels(program: Program): ModelDecl[] {
  const parsed = program.files.get(program.root);
  return (parsed?.source.declarations ?? []).filter((d): d is ModelDecl => d.kind === 'model');
}

export interface CompileOptions {
  readonly file: string;
  readonly text?: string;
  /** Model name; default: the first model declared in the file. */
  readonly model?: string;
  readonly overrides?: Readonly<Record<string, number>>;
  readonly readText?: ReadText;
}

export interface CompileResult {
  readonly program: Program;
  readonly graph?: ModelGraph;
  readonly diagnostics: Diagnostic[];
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  // A line with a syntax error is reported once: what the checker makes of its remains follows from it.
  const broken = new Set(diagnostics.filter((d) => d.code === codeOf('syntaxError') || d.code === codeOf('lexError')).map((d) => `${d.span.file}|${d.span.startLine}`));
  return diagnostics.filter((d) => {
    if (d.code !== codeOf('syntaxError') && d.code !== codeOf('lexError') && broken.has(`${d.span.file}|${d.span.startLine}`)) return false;
    const key = `${d.code}|${d.span.file}|${d.span.startOffset}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.span.file === b.span.file ? a.span.startOffset - b.span.startOffset : a.span.file < b.span.file ? -1 : 1));
}

/** Parse, resolve and shape-check one model. */
export function compileModel(options: CompileOptions): CompileResult {
  const program = loadProgram(options.file, options.text, options.readText);
  const diagnostics = [...program.diagnostics];
  const candidates = rootModels(program);
  let model: ModelDecl | undefined;
  if (options.model) {
    model = program.models.get(options.model);
    if (!model) {
      const guess = didYouMean(options.model, program.models.keys());
      const span = candidates[0]?.name.span ?? { file: options.file, startOffset: 0, endOffset: 0, startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 };
      diagnostics.push(diagnostic(span, messages.unknownModel.named({ model: options.model, file: options.file, ...(guess ? { guess } : {}), models: [...program.models.keys()] })));
    }
  } else {
    model = candidates[0];
    if (!model && program.diagnostics.length === 0) {
      diagnostics.push(diagnostic({ file: options.file, startOffset: 0, endOffset: 0, startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 }, messages.unknownModel.none({ file: options.file })));
    }
  }
  if (!model) return { program, diagnostics: sortDiagnostics(dedupe(diagnostics)) };
  const expanded = expandModel(model, { blocks: program.blocks, overrides: options.overrides });
  for (const d of expanded.diagnostics) diagnostics.push(d); // a spread of a huge list overflows the stack
  return { program, graph: expanded.graph, diagnostics: sortDiagnostics(dedupe(diagnostics)) };
}

/**
 * Every diagnostic of a file: syntax, imports, and each of its models expanded with defaults.
 * `budgetMs` ends a long check with a diagnostic; `cancelled` abandons it (throws CheckCancelled).
 */
export function checkFile(
  file: string,
  text?: string,
  readText?: ReadText,
  budgetMs?: number,
  cancelled?: () => boolean,
): { program: Program; diagnostics: Diagnostic[]; graphs: ModelGraph[] } {
  if (cancelled?.()) throw new CheckCancelled();
  const program = loadProgram(file, text, readText);
  const diagnostics = [...program.diagnostics];
  const graphs: ModelGraph[] = [];
  // One time budget for all the file's models (an editor checks on every keystroke).
  const deadline = budgetMs === undefined ? undefined : { at: performance.now() + budgetMs, ms: budgetMs };
  for (const model of rootModels(program)) {
    const expanded = expandModel(model, { blocks: program.blocks, ...(deadline ? { deadline } : {}), ...(cancelled ? { cancelled } : {}) });
    for (const d of expanded.diagnostics) diagnostics.push(d); // a spread of a huge list overflows the stack
    if (expanded.graph) graphs.push(expanded.graph);
  }
  return { program, diagnostics: sortDiagnostics(dedupe(diagnostics)), graphs };
}
