// The .cnn formatter: the author's line breaks stay, everything else is canonical. Indentation is
// two spaces per brace and two more for a statement's continuation lines; tokens get one space between them except where the
// language glues them (`5x5`, `f(x)`, `a.b`, `1..3`, `x,`); at most one blank line in a row, none
// after `{` or before `}`. Trailing comments of consecutive lines share one column: the column most
// of them had; a line whose code reaches that column keeps its own gap. That keeps hand-aligned
// shape comments as the author lined them up and makes formatting idempotent.

import { MAX_NESTING, parseSource } from '../../grammar/index.ts';
import { codeOf, type Diagnostic } from '../../grammar/diagnostics.ts';
import { scanLines, type LineToken, type SourceLine } from './lines.ts';

export type FormatResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly errors: readonly Diagnostic[] };

const INDENT = '  ';
const OPERAND_END = new Set(['NumberLiteral', 'Identifier', 'StringLiteral', 'RParen']);
/** Tokens after which a line continues on the next one (grammar/tokens.ts `continuesAfter`). */
const CONTINUES_AFTER = new Set(['Arrow', 'Comma', 'Equals', 'Plus', 'Minus', 'Star', 'Slash', 'Percent', 'LParen', 'Colon', 'DotDot', 'Dot']);
const CONTINUES_BEFORE = new Set(['Arrow', 'RParen', 'Comma']);

function spaceBetween(a: LineToken, b: LineToken): boolean {
  if (b.type === 'Comma' || b.type === 'RParen' || b.type === 'Colon' || b.type === 'Dot' || b.type === 'DotDot' || b.type === 'Cross') return false;
  if (a.type === 'LParen' || a.type === 'Dot' || a.type === 'DotDot') return false;
  // `5x5`: the cross stays glued to a following number; `5x f` must keep its space or it lexes as `xf`.
  if (a.type === 'Cross') return b.type !== 'NumberLiteral';
  if (b.type === 'LParen') return !(a.type === 'Identifier' || a.type === 'RParen') || a.spaceAfter;
  // A minus can be unary (`alpha -0.1`) or binary (`n - 1`): keep the author's spacing.
  if (a.type === 'Minus') return a.spaceAfter;
  if (b.type === 'Minus') return b.spaceBefore || !OPERAND_END.has(a.type);
  return true;
}

function printTokens(tokens: readonly LineToken[]): string {
  let out = '';
  tokens.forEach((t, i) => {
    if (i > 0 && spaceBetween(tokens[i - 1], t)) out += ' ';
    out += t.image;
  });
  return out;
}

interface PrintedLine {
  readonly code: string;
  readonly comment?: string;
  readonly commentColumn?: number;
  /** Column where the code ended in the source, to keep the gap before a comment that cannot align. */
  readonly sourceCodeEnd: number;
  readonly blank: boolean;
}

/**
 * Indentation for a brace depth. Past MAX_NESTING the file is in error anyway; the cap keeps
 * thousands of unclosed `{` from making lines thousands of spaces long (gigabytes of output).
 */
function indentOf(depth: number): string {
  return INDENT.repeat(Math.min(MAX_NESTING, Math.max(0, depth)));
}

/** For each line, whether the next line with tokens after it starts with `}` (one pass from the end, not a search per line). */
function nextCodeClosesBrace(lines: readonly SourceLine[]): boolean[] {
  const closes = new Array<boolean>(lines.length).fill(false);
  for (let i = lines.length - 2; i >= 0; i--) {
    const next = lines[i + 1];
    closes[i] = next.tokens.length > 0 ? next.tokens[0].type === 'RBrace' : closes[i + 1];
  }
  return closes;
}

/** Indent and print each line; continuation lines are indented under their statement. */
function printLines(lines: readonly SourceLine[]): PrintedLine[] {
  const out: PrintedLine[] = [];
  const closesNext = nextCodeClosesBrace(lines);
  let depth = 0;
  let parens = 0;
  let continues = false;
  let statementIndent = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const tokens = line.tokens;
    const code = tokens.filter((t) => t.type !== 'BlockComment');
    const first = code[0] ?? tokens[0];
    const closes = first?.type === 'RBrace';
    const continuation = code.length > 0 && (continues || parens > 0 || CONTINUES_BEFORE.has(first.type));
    const printed = printTokens(tokens);
    let indent: string;
    if (continuation) {
      indent = statementIndent + INDENT;
    } else {
      indent = indentOf(depth - (closes ? 1 : 0));
      if (tokens.length > 0) statementIndent = indent;
    }
    for (const t of tokens) {
      if (t.type === 'LBrace') depth++;
      if (t.type === 'RBrace') depth = Math.max(0, depth - 1);
      if (t.type === 'LParen') parens++;
      if (t.type === 'RParen') parens = Math.max(0, parens - 1);
    }
    if (code.length > 0) continues = CONTINUES_AFTER.has(code[code.length - 1].type);
    if (line.verbatim !== undefined) {
      out.push({ code: line.verbatim, sourceCodeEnd: 0, blank: false });
      continue;
    }
    if (tokens.length === 0 && line.comment === undefined) {
      out.push({ code: '', sourceCodeEnd: 0, blank: true });
      continue;
    }
    if (tokens.length === 0) {
      // A comment on its own line takes the indentation of the code that follows it.
      out.push({ code: indentOf(depth - (closesNext[i] ? 1 : 0)) + line.comment, sourceCodeEnd: 0, blank: false });
      continue;
    }
    // Columns measured as if the line already had its new indentation.
    const shift = indent.length - (line.codeStart ?? 0);
    out.push({
      code: indent + printed,
      comment: line.comment,
      ...(line.commentColumn !== undefined ? { commentColumn: line.commentColumn + shift } : {}),
      sourceCodeEnd: (line.codeEnd ?? 0) + shift,
      blank: false,
    });
  }
  return out;
}

/** Drops blank lines at the ends, after `{`, before `}`, and all but one in a row. */
function collapseBlankLines(lines: readonly PrintedLine[]): PrintedLine[] {
  const out: PrintedLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.blank) {
      if (line.code.trimStart().startsWith('}')) while (out.length > 0 && out[out.length - 1].blank) out.pop();
      out.push(line);
      continue;
    }
    const previous = out[out.length - 1];
    if (!previous || previous.blank || (previous.comment === undefined && previous.code.endsWith('{'))) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1].blank) out.pop();
  return out;
}

/** The value most lines share (the first of equals): the column the author lined comments up at. */
function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0];
  for (const v of values) if ((counts.get(v) ?? 0) > (counts.get(best) ?? 0)) best = v;
  return best;
}

/** Aligns the trailing comments of each run of consecutive lines that have one. */
function alignComments(lines: readonly PrintedLine[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].comment === undefined) {
      out.push(lines[i].code);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j].comment !== undefined) j++;
    const run = lines.slice(i, j);
    const column = mostCommon(run.map((l) => l.commentColumn ?? 0));
    for (const l of run) {
      // A line whose code reaches the column keeps its own gap (at least one space) instead of pushing the others.
      const gap = l.code.length < column ? column - l.code.length : Math.max(1, (l.commentColumn ?? 0) - l.sourceCodeEnd);
      out.push(l.code + ' '.repeat(gap) + l.comment);
    }
    i = j;
  }
  return out;
}

/** Formats a whole file; a file with lexer or syntax errors is left to the author. */
export function formatCnn(text: string, file = 'input.cnn'): FormatResult {
  const parsed = parseSource(text, file);
  const errors = parsed.diagnostics.filter((d) => d.code === codeOf('lexError') || d.code === codeOf('syntaxError'));
  if (errors.length > 0) return { ok: false, errors };
  const lines = scanLines(text);
  if (!lines) return { ok: false, errors: parsed.diagnostics };
  const printed = alignComments(collapseBlankLines(printLines(lines)));
  return { ok: true, text: printed.length > 0 ? printed.join('\n') + '\n' : '' };
}
