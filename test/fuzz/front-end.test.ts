// The parser, checker and formatter on generated and mutated programs: nothing throws, nothing
// hangs (each case is timed), every diagnostic is one line inside the text (issue 13).
// Size: CNNC_FUZZ (test/fuzz/budget.ts).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../grammar/diagnostics.ts';
import { formatCnn } from '../../compiler/format/printer.ts';
import { checkFile } from '../../compiler/program.ts';
import { bounded, runs, TEST_TIMEOUT_MS } from './budget.ts';
import { mutatedProgram, program } from './programs.ts';

const FILE = '/virtual/fuzz.cnn';

function frontEnd(text: string): void {
  const { diagnostics } = bounded('check', () => checkFile(FILE, text, (p) => (p === FILE ? text : undefined)));
  const lines = text.split('\n').length;
  for (const d of diagnostics) {
    if (d.span.file !== FILE) continue;
    expect(d.span.startLine).toBeGreaterThanOrEqual(1);
    expect(d.span.startLine).toBeLessThanOrEqual(lines);
    expect(d.span.endOffset).toBeLessThanOrEqual(text.length);
    // One line each (plus its hint line), no raw control characters.
    const printed = formatDiagnostic(d);
    expect(printed.split('\n').length).toBeLessThanOrEqual(2);
    // eslint-disable-next-line no-control-regex
    expect(printed).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(d.message).not.toMatch(/\b(RBrace|LBrace|RParen|LParen|EOF|Identifier|NumberLiteral|Colon)\b/);
  }
  const formatted = bounded('format', () => formatCnn(text, FILE));
  if (formatted.ok) {
    // Formatting is idempotent and keeps the program's diagnostics' codes.
    const again = bounded('format twice', () => formatCnn(formatted.text, FILE));
    expect(again.ok && again.text).toBe(formatted.text);
  }
}

describe('front end on generated programs', () => {
  it('grammar-aware programs', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(program, frontEnd), { numRuns: runs(25) });
  });
  it('mutated programs', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(mutatedProgram, frontEnd), { numRuns: runs(40) });
  });
  it('arbitrary unicode and bytes', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), frontEnd), { numRuns: runs(150) });
  });
});
