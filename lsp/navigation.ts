// Go to definition, find references and rename for blocks (across the files a program imports,
// the standard library included) and for named values (inputs, `y = ...`, `as name`, parameters)
// inside one model or block.

import { dirname, resolve } from 'node:path';
import type { Location, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import type { SourceFile } from '../grammar/ast.ts';
import { stdlibPath } from '../compiler/program.ts';
import type { Span } from '../grammar/span.ts';
import { pathToUri, type Analysis } from './analysis.ts';
import { contains, spanToRange, wordAt } from './positions.ts';
import { bodyDecls, declarationAt, definitionsIn, nameUses, type BodyDecl } from './syntax.ts';

const location = (span: Span): Location => ({ uri: pathToUri(span.file), range: spanToRange(span) });

type Target = { kind: 'block'; name: string; decl: BodyDecl } | { kind: 'value'; name: string; decl: BodyDecl; definition: Span } | { kind: 'file'; path: string };

function sources(analyses: readonly Analysis[]): SourceFile[] {
  const byFile = new Map<string, SourceFile>();
  for (const a of analyses) for (const [path, parsed] of a.program.files) if (!byFile.has(path)) byFile.set(path, { ...parsed.source, file: path });
  return [...byFile.values()];
}

/** What the name at an offset refers to. */
function targetAt(analysis: Analysis, offset: number): Target | undefined {
  const decl = declarationAt(analysis.source, offset);
  if (decl?.kind === 'import') {
    return { kind: 'file', path: decl.isStdlib ? stdlibPath(decl.target) : resolve(dirname(analysis.path), decl.target) };
  }
  const word = wordAt(analysis.text, offset);
  if (!word) return undefined;
  if (decl && contains(decl.name.span, offset)) {
    return decl.kind === 'block' ? { kind: 'block', name: decl.name.name, decl } : undefined;
  }
  if (decl) {
    const local = definitionsIn(decl).filter((d) => d.name.name === word.word);
    if (local.length > 0) {
      const before = local.filter((d) => d.name.span.startOffset <= word.start);
      const def = before[before.length - 1] ?? local[0];
      return { kind: 'value', name: word.word, decl, definition: def.name.span };
    }
  }
  const block = analysis.program.blocks.get(word.word);
  if (block) return { kind: 'block', name: word.word, decl: block };
  return undefined;
}

export function definition(analysis: Analysis, offset: number): Location | undefined {
  const target = targetAt(analysis, offset);
  if (!target) return undefined;
  if (target.kind === 'file') return { uri: pathToUri(target.path), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
  if (target.kind === 'block') return location(target.decl.name.span);
  return location(target.definition);
}

function blockReferences(name: string, all: readonly SourceFile[]): Span[] {
  const out: Span[] = [];
  for (const source of all) {
    for (const decl of bodyDecls(source)) {
      if (decl.kind === 'block' && decl.name.name === name) out.push({ ...decl.name.span, file: source.file });
      for (const use of nameUses(decl)) if (use.callee && use.name === name && !definitionsIn(decl).some((d) => d.name.name === name)) out.push({ ...use.span, file: source.file });
    }
  }
  return out;
}

function valueReferences(name: string, decl: BodyDecl, file: string): Span[] {
  const spans = [...definitionsIn(decl).filter((d) => d.name.name === name).map((d) => d.name.span), ...nameUses(decl).filter((u) => u.name === name).map((u) => u.span)];
  return spans.map((s) => ({ ...s, file })).sort((a, b) => a.startOffset - b.startOffset);
}

/** References of the name at an offset; `others` are further open documents that may use a block. */
export function references(analysis: Analysis, offset: number, includeDeclaration = true, others: readonly Analysis[] = []): Location[] {
  const target = targetAt(analysis, offset);
  if (!target || target.kind === 'file') return [];
  const spans = target.kind === 'block' ? blockReferences(target.name, sources([analysis, ...others])) : valueReferences(target.name, target.decl, analysis.path);
  const declaration = target.kind === 'block' ? target.decl.name.span : target.definition;
  return spans.filter((s) => includeDeclaration || s.startOffset !== declaration.startOffset || s.file !== declaration.file).map(location);
}

export class RenameError extends Error {}

export function rename(analysis: Analysis, offset: number, newName: string, others: readonly Analysis[] = []): WorkspaceEdit {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) throw new RenameError(`'${newName}' is not a valid name`);
  const target = targetAt(analysis, offset);
  if (!target || target.kind === 'file') throw new RenameError('only blocks and named values can be renamed');
  const changes: Record<string, TextEdit[]> = {};
  for (const loc of references(analysis, offset, true, others)) (changes[loc.uri] ??= []).push({ range: loc.range, newText: newName });
  return { changes };
}

export function prepareRename(analysis: Analysis, offset: number): { start: number; end: number } | undefined {
  const target = targetAt(analysis, offset);
  if (!target || target.kind === 'file') return undefined;
  const word = wordAt(analysis.text, offset);
  return word && { start: word.start, end: word.end };
}
