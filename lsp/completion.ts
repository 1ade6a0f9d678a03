// Completion and signature help from the text before the cursor: at the start of a stage, layer
// and block names and named values; inside a layer's arguments, its keyword arguments and the
// words it accepts; after `loss`, the loss functions. Signature help shows the layer's or block's
// signature with the argument being typed highlighted.

import { CompletionItemKind, type CompletionItem, type SignatureHelp } from 'vscode-languageserver';
import type { BlockDecl } from '../grammar/ast.ts';
import { LAYERS } from '../compiler/layers/index.ts';
import { LOSSES } from '../compiler/checker/loss.ts';
import { KEYWORD_ARGS } from '../grammar/keyword-args.ts';
import type { Analysis } from './analysis.ts';
import { declarationAt, definitionsIn } from './syntax.ts';

/** For each keyword, the words any layer accepts for it: what a block call's keyword may be given. */
const ANY_LAYER_WORDS = new Map<string, readonly string[]>();
for (const d of new Set(Object.values(LAYERS))) {
  for (const [keyword, words] of Object.entries(d.keywordWords ?? {})) ANY_LAYER_WORDS.set(keyword, [...new Set([...(ANY_LAYER_WORDS.get(keyword) ?? []), ...words])]);
}

/** The words a keyword accepts besides numbers, from the layer's definition (any layer's, inside a block call). */
function keywordWords(callee: string | undefined, keyword: string): readonly string[] {
  const spec = callee === undefined ? undefined : LAYERS[callee];
  if (spec) return spec.keywordWords?.[keyword] ?? [];
  return ANY_LAYER_WORDS.get(keyword) ?? [];
}

const STATEMENT_KEYWORDS = ['input', 'output', 'loss', 'return', 'freeze', 'share', 'repeat', 'for'];
const TOP_KEYWORDS = ['model', 'block', 'import'];

export type CompletionContext = 'top' | 'stage' | 'statement' | 'arguments' | 'loss';

export interface TypingContext {
  readonly kind: CompletionContext;
  /** The layer or block whose arguments are being typed. */
  readonly callee?: string;
  /** Arguments already finished before the cursor (commas seen). */
  readonly argumentIndex: number;
  /** The keyword of the argument being typed (`stride` in `stride 2`), if any. */
  readonly keyword?: string;
}

/** The statement text before the cursor, with the partial word removed. */
function before(text: string, offset: number): { line: string; depth: number } {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let line = text.slice(lineStart, offset).replace(/[A-Za-z0-9_]*$/, '');
  line = line.replace(/\/\/.*$/, '');
  const depth = (text.slice(0, lineStart).match(/\{/g)?.length ?? 0) - (text.slice(0, lineStart).match(/\}/g)?.length ?? 0);
  return { line, depth };
}

export function typingContext(text: string, offset: number): TypingContext {
  const { line, depth } = before(text, offset);
  if (depth <= 0 && line.trim() === '') return { kind: 'top', argumentIndex: 0 };
  if (/^\s*loss\b/.test(line)) return { kind: 'loss', argumentIndex: 0 };
  if (line.trim() === '') return { kind: 'statement', argumentIndex: 0 };
  // The innermost unclosed call: `identity(3, 64, `.
  let parens = 0;
  for (let i = line.length - 1; i >= 0; i--) {
    if (line[i] === ')') parens++;
    if (line[i] === '(') {
      if (parens === 0) {
        const callee = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line.slice(0, i))?.[1];
        const inside = line.slice(i + 1);
        const commas = inside.split(',').length - 1;
        const keyword = /(?:^|,)\s*([A-Za-z_]+)\s+$/.exec(inside)?.[1];
        return { kind: 'arguments', ...(callee ? { callee } : {}), argumentIndex: commas, ...(keyword && KEYWORD_ARGS.has(keyword) ? { keyword } : {}) };
      }
      parens--;
    }
  }
  const stage = line.split('->').pop() ?? '';
  if (stage.trim() === '' || /^\s*[A-Za-z_]\w*\s*=\s*$/.test(stage)) return { kind: 'stage', argumentIndex: 0 };
  const bare = /^\s*(?:[A-Za-z_]\w*\s*=\s*)?([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$/.exec(stage);
  if (bare && LAYERS[bare[1]]) {
    const args = bare[2];
    const keyword = /(?:^|,)\s*([A-Za-z_]+)\s+$/.exec(args)?.[1];
    return { kind: 'arguments', callee: bare[1], argumentIndex: args.split(',').length - 1, ...(keyword && KEYWORD_ARGS.has(keyword) ? { keyword } : {}) };
  }
  return { kind: 'stage', argumentIndex: 0 };
}

function layerItems(): CompletionItem[] {
  return Object.entries(LAYERS).map(([name, spec]) => ({ label: name, kind: CompletionItemKind.Function, detail: spec.signature, documentation: spec.doc }));
}

function blockItems(blocks: ReadonlyMap<string, BlockDecl>): CompletionItem[] {
  return [...blocks.values()].map((b) => ({
    label: b.name.name,
    kind: CompletionItemKind.Class,
    detail: `block ${b.name.name}(${b.params.map((p) => p.name.name).join(', ')})(${b.inputs.map((i) => i.name).join(', ')})`,
    ...(b.doc ? { documentation: b.doc } : {}),
  }));
}

/** The declaration being typed in: the one around the offset, or an unclosed one before it. */
function enclosing(analysis: Analysis, offset: number) {
  const around = declarationAt(analysis.source, offset);
  if (around) return around;
  const before = analysis.source.declarations.filter((d) => d.span.startOffset < offset);
  const last = before[before.length - 1];
  if (!last) return undefined;
  const typed = analysis.text.slice(last.span.startOffset, offset);
  return (typed.match(/\{/g)?.length ?? 0) > (typed.match(/\}/g)?.length ?? 0) ? last : undefined;
}

function valueItems(analysis: Analysis, offset: number): CompletionItem[] {
  const decl = enclosing(analysis, offset);
  if (!decl || decl.kind === 'import') return [];
  const seen = new Set<string>();
  const out: CompletionItem[] = [];
  for (const d of definitionsIn(decl)) {
    if (seen.has(d.name.name) || d.span.startOffset > offset) continue;
    seen.add(d.name.name);
    out.push({ label: d.name.name, kind: d.kind === 'parameter' || d.kind === 'loop variable' ? CompletionItemKind.Constant : CompletionItemKind.Variable, detail: d.kind });
  }
  return out;
}

const keywordItems = (words: readonly string[]): CompletionItem[] => words.map((w) => ({ label: w, kind: CompletionItemKind.Keyword }));

export function completion(analysis: Analysis, offset: number): CompletionItem[] {
  const ctx = typingContext(analysis.text, offset);
  switch (ctx.kind) {
    case 'top':
      return keywordItems(TOP_KEYWORDS);
    case 'loss':
      return [
        ...Object.entries(LOSSES).map(([name, spec]) => ({ label: name, kind: CompletionItemKind.Function, detail: spec.signature, documentation: spec.doc })),
        ...valueItems(analysis, offset),
      ];
    case 'arguments': {
      const spec = ctx.callee ? LAYERS[ctx.callee] : undefined;
      const values = valueItems(analysis, offset);
      if (ctx.keyword) return [...keywordItems(keywordWords(ctx.callee, ctx.keyword)), ...values];
      if (spec) {
        const keywords = spec.keywords.map((k) => ({ label: k, kind: CompletionItemKind.Property, detail: `${ctx.callee} keyword argument` }));
        return [...keywords, ...values];
      }
      return [...values, ...layerItems(), ...blockItems(analysis.program.blocks)];
    }
    case 'statement':
      return [...keywordItems(STATEMENT_KEYWORDS), ...layerItems(), ...blockItems(analysis.program.blocks), ...valueItems(analysis, offset)];
    case 'stage':
      return [...layerItems(), ...blockItems(analysis.program.blocks), ...valueItems(analysis, offset)];
  }
}

/** Parameter label offsets inside a signature: the pieces between commas and optional brackets, up to a `)`. */
function parameterRanges(label: string, from: number): [number, number][] {
  const out: [number, number][] = [];
  const end = label.indexOf(')', from);
  const piece = /[^,[\]()]+/g;
  piece.lastIndex = from;
  for (let m = piece.exec(label); m && (end < 0 || m.index < end); m = piece.exec(label)) {
    const start = m.index + (m[0].length - m[0].trimStart().length);
    const stop = m.index + m[0].trimEnd().length;
    if (stop > start) out.push([start, stop]);
  }
  return out;
}

export function signatureHelp(analysis: Analysis, offset: number): SignatureHelp | undefined {
  const ctx = typingContext(analysis.text, offset);
  if (ctx.kind !== 'arguments' || !ctx.callee) return undefined;
  const spec = LAYERS[ctx.callee];
  if (spec) {
    const label = spec.signature;
    const ranges = parameterRanges(label, label.indexOf(' ') + 1);
    let active = ctx.keyword ? ranges.findIndex(([s, e]) => label.slice(s, e).startsWith(ctx.keyword ?? '')) : ctx.argumentIndex;
    if (active < 0) active = ctx.argumentIndex;
    return { signatures: [{ label, documentation: spec.doc, parameters: ranges.map((r) => ({ label: r })) }], activeSignature: 0, activeParameter: Math.min(active, ranges.length - 1) };
  }
  const block = analysis.program.blocks.get(ctx.callee);
  if (block) {
    const params = block.params.map((p) => p.name.name);
    const label = `${block.name.name}(${params.join(', ')})(${block.inputs.map((i) => i.name).join(', ')})`;
    const ranges = parameterRanges(label, block.name.name.length + 1);
    return {
      signatures: [{ label, ...(block.doc ? { documentation: block.doc } : {}), parameters: ranges.slice(0, params.length).map((r) => ({ label: r })) }],
      activeSignature: 0,
      activeParameter: ctx.argumentIndex,
    };
  }
  const loss = LOSSES[ctx.callee];
  if (loss) return { signatures: [{ label: loss.signature, documentation: loss.doc }], activeSignature: 0, activeParameter: ctx.argumentIndex };
  return undefined;
}
