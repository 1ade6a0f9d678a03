// Conversions between compiler spans (1-based lines and columns, 0-based offsets) and LSP
// positions (0-based lines and UTF-16 characters).

import type { Position, Range } from 'vscode-languageserver';
import type { Span } from '../grammar/span.ts';

export function spanToRange(span: Span): Range {
  return {
    start: { line: span.startLine - 1, character: span.startColumn - 1 },
    end: { line: span.endLine - 1, character: span.endColumn - 1 },
  };
}

export function offsetAt(text: string, position: Position): number {
  let line = 0;
  let i = 0;
  while (line < position.line) {
    const next = text.indexOf('\n', i);
    if (next < 0) return text.length;
    i = next + 1;
    line++;
  }
  const lineEnd = text.indexOf('\n', i);
  return Math.min(i + position.character, lineEnd < 0 ? text.length : lineEnd);
}

export function positionAt(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: Math.min(offset, text.length) - lineStart };
}

export function contains(span: Span, offset: number): boolean {
  return span.startOffset <= offset && offset <= span.endOffset;
}

/** The identifier-like word around an offset, with its bounds. */
export function wordAt(text: string, offset: number): { word: string; start: number; end: number } | undefined {
  let start = offset;
  let end = offset;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1])) start--;
  while (end < text.length && /[A-Za-z0-9_]/.test(text[end])) end++;
  return end > start ? { word: text.slice(start, end), start, end } : undefined;
}
