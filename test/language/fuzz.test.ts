// Property-based fuzzing of the front end: no input of any kind makes it throw or hang, and every
// diagnostic points inside the text it was given (issue 2).

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../compiler/program.ts';

const FILE = '/virtual/fuzz.cnn';

function checkSpans(text: string): void {
  const lineCount = text.split('\n').length;
  const { diagnostics } = checkFile(FILE, text, (p) => (p === FILE ? text : undefined));
  for (const d of diagnostics) {
    if (d.span.file !== FILE) continue;
    expect(d.span.startOffset).toBeGreaterThanOrEqual(0);
    expect(d.span.endOffset).toBeGreaterThanOrEqual(d.span.startOffset);
    expect(d.span.endOffset).toBeLessThanOrEqual(text.length);
    expect(d.span.startLine).toBeGreaterThanOrEqual(1);
    expect(d.span.startLine).toBeLessThanOrEqual(lineCount);
    expect(d.span.startColumn).toBeGreaterThanOrEqual(1);
    expect(d.message.length).toBeGreaterThan(0);
  }
}

const corpus = [
  ...readdirSync('examples').map((f) => `examples/${f}`),
  ...readdirSync('stdlib').map((f) => `stdlib/${f}`),
]
  .filter((f) => f.endsWith('.cnn'))
  .map((f) => readFileSync(f, 'utf8'));

const fragments = ['conv', 'x', '->', '(', ')', '{', '}', ',', '=', '\n', ' ', '5x5', '0', '-1', '/', '*', 'model', 'block', 'input', 'return', 'repeat', 'for', 'in', '..', 'as', '.', 'loss', 'share', 'freeze', 'relu', 'dense', 'add', 'concat', '///', '//', '/*', '"', '1e99', 'NaN', 'stride', 'pad same'];

describe('front-end fuzzing', () => {
  it('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), checkSpans), { numRuns: 300 });
  });

  it('random sequences of language fragments', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 80 }).map((a) => a.join(' ')), checkSpans), { numRuns: 300 });
  });

  it('model files with characters deleted, inserted and swapped', () => {
    const mutation = fc.record({
      file: fc.integer({ min: 0, max: corpus.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), remove: fc.integer({ min: 0, max: 8 }), insert: fc.constantFrom('', ...fragments) }), { minLength: 1, maxLength: 6 }),
    });
    fc.assert(
      fc.property(mutation, ({ file, edits }) => {
        let text = corpus[file];
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at + e.remove);
        }
        checkSpans(text);
      }),
      { numRuns: 300 },
    );
  });

  it('deeply nested and very long inputs finish', () => {
    checkSpans(`model M {\n  input x: ${'('.repeat(500)}1${')'.repeat(500)}\n}`);
    checkSpans(`model M {\n  input x: 8\n${'  dense 8\n'.repeat(3000)}}`);
    checkSpans('-'.repeat(5000));
    checkSpans('model M {\n  input x: 8\n  repeat 1e9 { relu }\n  for i in 0..1e8 { relu }\n}');
  });
});
