// Source positions. Lines and columns are 1-based as editors and `path:line:col` print them;
// offsets are 0-based UTF-16 indices into the file text (what chevrotain and LSP work in).

export interface Span {
  readonly file: string;
  readonly startOffset: number;
  /** Exclusive. */
  readonly endOffset: number;
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  /** Exclusive. */
  readonly endColumn: number;
}

export function joinSpans(a: Span, b: Span): Span {
  return {
    file: a.file,
    startOffset: a.startOffset,
    endOffset: b.endOffset,
    startLine: a.startLine,
    startColumn: a.startColumn,
    endLine: b.endLine,
    endColumn: b.endColumn,
  };
}

/** A span for a position computed from raw text (lexer errors, end of file). */
export function spanAt(file: string, text: string, offset: number, length = 1): Span {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const end = Math.min(text.length, clamped + Math.max(0, length));
  const column = clamped - lineStart + 1;
  return {
    file,
    startOffset: clamped,
    endOffset: end,
    startLine: line,
    startColumn: column,
    endLine: line,
    endColumn: column + (end - clamped),
  };
}
