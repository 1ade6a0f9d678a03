// Whole-document formatting: one edit replacing the text, or none when it is already formatted or
// has syntax errors (the formatter never guesses at broken code).

import type { TextEdit } from 'vscode-languageserver';
import { formatCnn } from '../compiler/format/printer.ts';
import { positionAt } from './positions.ts';

export function formatDocument(text: string, file?: string): TextEdit[] {
  const result = formatCnn(text, file);
  if (!result.ok || result.text === text) return [];
  return [{ range: { start: { line: 0, character: 0 }, end: positionAt(text, text.length) }, newText: result.text }];
}
