// Every editor feature on half-typed text: random edits of real files, every feature at random
// offsets. Nothing may throw: an exception in the server is a dead editor.

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyse, pathToUri } from '../../lsp/analysis.ts';
import { codeActions } from '../../lsp/code-actions.ts';
import { completion, signatureHelp } from '../../lsp/completion.ts';
import { documentDiagnostics } from '../../lsp/diagnostics.ts';
import { formatDocument } from '../../lsp/formatting.ts';
import { hover } from '../../lsp/hover.ts';
import { inlayHints } from '../../lsp/inlay-hints.ts';
import { definition, prepareRename, references, rename, RenameError } from '../../lsp/navigation.ts';
import { documentSymbols } from '../../lsp/symbols.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const sources = ['examples/lenet5.cnn', 'examples/bottleneck.cnn', 'test/lsp/fixtures/uses-blocks.cnn', ...readdirSync(resolve(ROOT, 'stdlib')).filter((f) => /^(resnet|yolo|inception)\.cnn$/.test(f)).map((f) => `stdlib/${f}`)].map((f) => ({
  path: resolve(ROOT, f),
  text: readFileSync(resolve(ROOT, f), 'utf8'),
}));
const SNIPPETS = ['', 'x', '(', ')', '{', '}', '->', ',', ' ', '\n', 'conv ', '5x5', '= ', 'relu(', '"', '//', '/*', 'as ', '..', 'repeat 2 {'];

describe('editor features on broken text', () => {
  it('never throw', () => {
    const edit = fc.record({
      source: fc.integer({ min: 0, max: sources.length - 1 }),
      at: fc.nat(),
      cut: fc.integer({ min: 0, max: 40 }),
      insert: fc.constantFrom(...SNIPPETS),
      probes: fc.array(fc.nat(), { minLength: 3, maxLength: 6 }),
    });
    fc.assert(
      fc.property(edit, ({ source, at, cut, insert, probes }) => {
        const { path, text: original } = sources[source];
        const start = at % (original.length + 1);
        const text = original.slice(0, start) + insert + original.slice(start + cut);
        const a = analyse({ uri: pathToUri(path), version: 1, text });
        const diagnostics = documentDiagnostics(a);
        codeActions(a, diagnostics);
        inlayHints(a);
        documentSymbols(a);
        formatDocument(text, path);
        for (const p of probes) {
          const offset = p % (text.length + 1);
          hover(a, offset);
          completion(a, offset);
          signatureHelp(a, offset);
          definition(a, offset);
          references(a, offset);
          prepareRename(a, offset);
          try {
            rename(a, offset, 'renamed');
          } catch (e) {
            expect(e).toBeInstanceOf(RenameError);
          }
        }
      }),
      { numRuns: 150, seed: 11 },
    );
  });
});
