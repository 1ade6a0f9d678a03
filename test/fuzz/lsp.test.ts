// The language server over stdio under random edit sequences, adversarial ones included (deep
// nesting, loops of 100,000, 20,000-character names): after every edit it answers hover within
// the case limit and stays alive (issue 13).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { HoverRequest } from 'vscode-languageserver-protocol/node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startClient, uriOf, type LspClient } from '../lsp/client.ts';
import { boundedAsync, runs, TEST_TIMEOUT_MS } from './budget.ts';

const FILE = resolve(ROOT, 'examples/fuzz-lsp.cnn');
const START = readFileSync(resolve(ROOT, 'examples/lenet5.cnn'), 'utf8');
const INSERTS = [
  '',
  '(',
  '}',
  '\n',
  'conv ',
  ', pad same',
  'repeat 100000 { repeat 100000 { relu } }\n',
  'repeat 40000 { relu }\n',
  `conv ${'('.repeat(500)}4${')'.repeat(500)}, 3x3\n`,
  `${'repeat 1 {\n'.repeat(200)}relu\n${'}\n'.repeat(200)}`,
  `${'a'.repeat(20_000)}\n`,
  `conv ${Array(3000).fill('1').join(' + ')}, 3x3\n`,
  '/*',
  '\u0000\u001b[2J',
];

/** Line and character of an offset, for LSP positions. */
function position(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

describe('language server under random edits', () => {
  let client: LspClient;
  beforeAll(async () => {
    client = await startClient();
    await client.open(FILE, START);
  });
  afterAll(async () => client.close());

  it('answers hover after every edit, within the limit', { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
    let text = START;
    await fc.assert(
      fc.asyncProperty(fc.record({ at: fc.nat(), cut: fc.integer({ min: 0, max: 30 }), insert: fc.constantFrom(...INSERTS), probe: fc.nat() }), async ({ at, cut, insert, probe }) => {
        const start = at % (text.length + 1);
        // Keep the document from growing without bound over a long pass.
        text = (text.length > 60_000 ? START : text.slice(0, start) + insert + text.slice(start + cut));
        client.change(FILE, text);
        const offset = probe % (text.length + 1);
        await boundedAsync('hover', () => client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(FILE) }, position: position(text, offset) }));
        expect(client.child.exitCode).toBeNull();
      }),
      { numRuns: runs(25) },
    );
  });
});
