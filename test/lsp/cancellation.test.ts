// The server stays responsive while a long check runs: checks run on a thread of their own and
// the next edit cancels the running one, so a hover after the edit does not wait for it (issue 13).

import { resolve } from 'node:path';
import { HoverRequest, type MarkupContent } from 'vscode-languageserver-protocol/node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSource } from '../../grammar/index.ts';
import { blockChain } from '../fuzz/programs.ts';
import { ROOT, startClient, uriOf, type LspClient } from './client.ts';

const FILE = resolve(ROOT, 'examples/cancellation.cnn');
const SMALL = 'model M {\n  input x: 8x8x1\n  conv 8, 3x3\n}\n';

let client: LspClient;
beforeAll(async () => {
  // A budget far longer than the check, so only the limit on layers ends it.
  client = await startClient(['--budget', '600000']);
  // Warm the server and its checking thread.
  const warm = client.nextDiagnostics(FILE);
  await client.open(FILE, SMALL);
  expect(await warm).toEqual([]);
});
afterAll(async () => client.close());

const hoverAt = (line: number, character: number) => client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(FILE) }, position: { line, character } });

describe('a running check is cancelled by the next edit', () => {
  it('hover after an edit of the 2^40-layer program answers without waiting for its check', async () => {
    // How long this server needs to check the program to the end (the 50,000-layer limit ends
    // it), once the checker's code is compiled: the second of two checks.
    const huge = blockChain(40, 2);
    let fullMs = Infinity;
    let started = 0;
    for (const version of [2, 3]) {
      started = performance.now();
      const full = client.nextDiagnostics(FILE, version);
      client.change(FILE, `${huge}${'\n'.repeat(version)}`);
      expect((await full).map((d) => d.code)).toEqual(['CNN107']);
      fullMs = Math.min(fullMs, performance.now() - started);
    }

    // The same program again; a request starts its check at once, and an edit arrives while it runs.
    client.change(FILE, huge);
    const during = hoverAt(0, 0);
    await new Promise((r) => setTimeout(r, fullMs / 5));
    started = performance.now();
    client.change(FILE, SMALL);
    const hover = await hoverAt(2, 3);
    const answeredMs = performance.now() - started;

    expect((hover?.contents as MarkupContent).value).toContain('6 x 6 x 8');
    // Waiting for the abandoned check would take most of fullMs.
    expect(answeredMs).toBeLessThan(fullMs / 2);
    // The request made during the abandoned check is answered too, from the newest text.
    await expect(during).resolves.toBeDefined();
    expect(client.child.exitCode).toBeNull();
  });

  it('a check stuck parsing thousands of broken lines is ended with its thread, and the next one runs at once', async () => {
    const broken = (lines: number) => `block b()(x) {\n${'  return\n'.repeat(lines)}  return x\n}\n`;
    // Parsing is linear in the broken lines: a tenth of them, timed here, estimates the whole.
    const started = performance.now();
    parseSource(broken(5000), 'sample.cnn');
    const parseMs = (performance.now() - started) * 10;

    client.change(FILE, broken(50_000));
    const during = hoverAt(0, 0);
    await new Promise((r) => setTimeout(r, 300));
    const edited = performance.now();
    client.change(FILE, SMALL);
    const hover = await hoverAt(2, 3);
    const answeredMs = performance.now() - edited;

    expect((hover?.contents as MarkupContent).value).toContain('6 x 6 x 8');
    // Waiting for the parse would take most of parseMs; a new thread takes a fraction of it.
    expect(answeredMs).toBeLessThan(parseMs / 3);
    await expect(during).resolves.toBeDefined();
    expect(client.child.exitCode).toBeNull();
  });
});
