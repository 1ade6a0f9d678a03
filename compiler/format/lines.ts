// Splits a .cnn file into physical lines of code tokens and comments. The lexer drops `//` and
// `/* */` comments (they are SKIPPED), so they are recovered from the gaps between the tokens it
// keeps: a gap holds only whitespace and comments.

import type { IToken } from 'chevrotain';
import { cnnLexer, Newline } from '../../grammar/tokens.ts';

export interface LineToken {
  readonly type: string;
  readonly image: string;
  /** Whitespace separated it from the previous token on the line in the source. */
  readonly spaceBefore: boolean;
  /** Whitespace separated it from the next token on the line in the source. */
  spaceAfter: boolean;
}

export interface SourceLine {
  /** Code tokens, in order, comments excluded. */
  readonly tokens: LineToken[];
  /** A line comment or doc comment ending the line (or filling it). One-line block comments are tokens. */
  comment?: string;
  /** 0-based column of the comment in the source. */
  commentColumn?: number;
  /** 0-based column where the line's code ends in the source. */
  codeEnd?: number;
  /** 0-based column of the line's first token in the source. */
  codeStart?: number;
  /** The line is part of a multi-line block comment: printed exactly as written. */
  verbatim?: string;
}

interface Piece {
  readonly offset: number;
  readonly end: number;
  readonly type: string;
  readonly image: string;
}

/** Comments inside a gap of text that holds only whitespace and comments. */
function commentsIn(text: string, from: number, to: number): Piece[] {
  const out: Piece[] = [];
  let i = from;
  while (i < to) {
    if (text.startsWith('//', i)) {
      let end = text.indexOf('\n', i);
      if (end < 0 || end > to) end = to;
      out.push({ offset: i, end, type: 'Comment', image: text.slice(i, end).replace(/\s+$/, '') });
      i = end;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? to : Math.min(to, close + 2);
      out.push({ offset: i, end, type: 'BlockComment', image: text.slice(i, end) });
      i = end;
    } else {
      i++;
    }
  }
  return out;
}

/** Physical lines of the text with their tokens and comments; undefined when the lexer fails. */
export function scanLines(text: string): SourceLine[] | undefined {
  const lexed = cnnLexer.tokenize(text);
  if (lexed.errors.length > 0) return undefined;
  const kept: IToken[] = [...lexed.tokens, ...(lexed.groups.docs ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  const pieces: Piece[] = [];
  let cursor = 0;
  for (const t of kept) {
    pieces.push(...commentsIn(text, cursor, t.startOffset));
    const end = (t.endOffset ?? t.startOffset) + 1;
    pieces.push({ offset: t.startOffset, end, type: t.tokenType === Newline ? 'Newline' : t.tokenType.name, image: t.image });
    cursor = end;
  }
  pieces.push(...commentsIn(text, cursor, text.length));

  const lines: SourceLine[] = [{ tokens: [] }];
  let previousEnd = 0;
  for (const p of pieces) {
    const line = lines[lines.length - 1];
    const gap = p.offset > previousEnd;
    if (p.type === 'Newline') {
      lines.push({ tokens: [] });
    } else if (p.type === 'Comment' || p.type === 'DocComment') {
      const lineStart = text.lastIndexOf('\n', p.offset - 1) + 1;
      line.comment = p.image;
      line.commentColumn = p.offset - lineStart;
      line.codeEnd = previousEnd - lineStart;
    } else if (p.type === 'BlockComment' && p.image.includes('\n')) {
      // Lines a multi-line comment touches are kept as written, from their start to their end.
      const first = text.lastIndexOf('\n', p.offset - 1) + 1;
      let last = text.indexOf('\n', p.end);
      if (last < 0) last = text.length;
      const rawLines = text.slice(first, last).split('\n');
      line.verbatim = rawLines[0].replace(/\s+$/, '');
      for (const raw of rawLines.slice(1)) lines.push({ tokens: [], verbatim: raw.replace(/\s+$/, '') });
    } else {
      if (line.tokens.length === 0) line.codeStart = p.offset - (text.lastIndexOf('\n', p.offset - 1) + 1);
      const last = line.tokens[line.tokens.length - 1];
      if (last) last.spaceAfter = gap;
      line.tokens.push({ type: p.type, image: p.image, spaceBefore: gap, spaceAfter: false });
    }
    previousEnd = p.end;
  }
  return lines;
}
