// The language server as an editor sees it: a child process `cnnc lsp --stdio`, spoken to over
// JSON-RPC with vscode-languageserver-protocol's client connection.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  HoverRequest,
  InlayHintRequest,
  CodeActionRequest,
  ReferencesRequest,
  SignatureHelpRequest,
  DocumentSymbolRequest,
  RenameRequest,
  type CompletionItem,
  type Location,
  type MarkupContent,
  type CodeAction,
  type DocumentSymbol,
  type WorkspaceEdit,
  type TextEdit,
} from 'vscode-languageserver-protocol/node.js';
import { ROOT, startClient, uriOf, type LspClient } from './client.ts';

const fixture = (name: string) => resolve(import.meta.dirname, 'fixtures', name);
const LENET = resolve(ROOT, 'examples/lenet5.cnn');

/** Line and character of the first occurrence of `needle` (plus `shift` characters). */
function positionOf(text: string, needle: string, shift = 0): { line: number; character: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`'${needle}' not in text`);
  const before = text.slice(0, offset + shift);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

let client: LspClient;

beforeAll(async () => {
  client = await startClient();
});

afterAll(async () => {
  await client.close();
});

describe('cnnc lsp', () => {
  it('publishes every error of a broken file with its range, and clears them after the fix', async () => {
    const path = fixture('three-errors.cnn');
    const text = readFileSync(path, 'utf8');
    const first = client.nextDiagnostics(path);
    await client.open(path, text);
    const diagnostics = await first;
    expect(diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character])).toEqual([
      ['CNN100', 2, 2, 2, 6], // cnov
      ['CNN304', 4, 2, 4, 7], // dense on a volume
      ['CNN300', 5, 2, 5, 15], // maxpool 40x40 on 28x28
    ]);
    expect(diagnostics.every((d) => d.severity === 1 && d.source === 'cnnc')).toBe(true);

    const fixed = text.replace('cnov', 'conv').replace('  dense 10', '  flatten -> dense 10').replace('  maxpool 40x40\n', '');
    const cleared = client.nextDiagnostics(path, 2);
    client.change(path, fixed);
    expect(await cleared).toEqual([]);
  });

  it('offers quick fixes for a misspelled layer and a missing flatten', async () => {
    const path = fixture('three-errors.cnn');
    const text = readFileSync(path, 'utf8');
    const published = client.nextDiagnostics(path, 3);
    client.change(path, text);
    const diagnostics = await published;
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: uriOf(path) },
      range: { start: { line: 0, character: 0 }, end: { line: 7, character: 0 } },
      context: { diagnostics },
    })) as CodeAction[];
    const edits = actions.flatMap((a) => a.edit?.changes?.[uriOf(path)] ?? []).map((e) => e.newText);
    expect(edits).toContain('conv');
    expect(edits).toContain('flatten -> ');
  });

  it('hovers a conv line with its shapes, parameter count and arithmetic', async () => {
    const text = readFileSync(LENET, 'utf8');
    await client.open(LENET, text);
    const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(LENET) }, position: positionOf(text, 'conv 16', 2) });
    const value = (hover?.contents as MarkupContent).value;
    expect(value).toContain('14 x 14 x 6 → 10 x 10 x 16');
    expect(value).toContain('parameters: 2,416'); // 16 * (5*5*6 + 1)
    expect(value).toContain('14 + 2*0 - 5 + 1 = 10');
  });

  it('gives LeNet-5 inlay hints equal to the shapes the course writes beside each line', async () => {
    const text = readFileSync(LENET, 'utf8');
    const lines = text.split('\n');
    const hints = await client.connection.sendRequest(InlayHintRequest.type, {
      textDocument: { uri: uriOf(LENET) },
      range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
    });
    const written = lines.flatMap((l, i) => (/\/\/ /.test(l) && !l.trimStart().startsWith('///') ? [[i, l.slice(l.indexOf('//')).trim()]] : []));
    expect(written.length).toBe(8);
    expect((hints ?? []).map((h) => [h.position.line, h.label])).toEqual(written);
  });

  it('completes layer names after `con`, keyword arguments and signatures', async () => {
    const path = fixture('scratch.cnn');
    const text = 'model M {\n  input image: 8 x 8 x 3\n  con\n}\n';
    await client.open(path, text);
    const items = (await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: uriOf(path) }, position: { line: 2, character: 5 } })) as CompletionItem[];
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['conv', 'conv1d', 'conv2d', 'conv3d', 'concat', 'image']));
    expect(items.find((i) => i.label === 'conv2d')?.detail).toMatch(/filters/);

    const typed = 'model M {\n  input image: 8 x 8 x 3\n  conv 6, 3x3, \n}\n';
    client.change(path, typed);
    const keywords = (await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: uriOf(path) }, position: { line: 2, character: 15 } })) as CompletionItem[];
    expect(keywords.map((i) => i.label)).toEqual(expect.arrayContaining(['stride', 'pad', 'dilation']));
    const help = await client.connection.sendRequest(SignatureHelpRequest.type, { textDocument: { uri: uriOf(path) }, position: { line: 2, character: 15 } });
    expect(help?.signatures[0].label).toMatch(/^conv filters, f x f/);
    expect(help?.activeParameter).toBe(2);
  });

  it('goes from a block use in a model to the block in the imported file, and finds its uses', async () => {
    const path = fixture('uses-blocks.cnn');
    const text = readFileSync(path, 'utf8');
    const clean = client.nextDiagnostics(path);
    await client.open(path, text);
    expect(await clean).toEqual([]);
    const result = (await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: uriOf(path) }, position: positionOf(text, 'unit(16)', 1) })) as Location;
    expect(result.uri).toBe(uriOf(fixture('blocks.cnn')));
    expect(result.range.start).toEqual({ line: 1, character: 6 });
    const refs = await client.connection.sendRequest(ReferencesRequest.type, {
      textDocument: { uri: uriOf(path) },
      position: positionOf(text, 'unit(8)', 1),
      context: { includeDeclaration: true },
    });
    expect((refs ?? []).map((r) => [r.uri === uriOf(path), r.range.start.line]).sort()).toEqual([
      [false, 1],
      [true, 4],
      [true, 6],
    ]);
    const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(path) }, position: positionOf(text, 'unit(16)', 1) });
    expect((hover?.contents as MarkupContent).value).toContain('8 x 8 x 8 → 8 x 8 x 16');
  });

  it('re-checks a file when an open file it imports changes, before it is saved', async () => {
    const blocks = fixture('blocks.cnn');
    const uses = fixture('uses-blocks.cnn');
    const blocksText = readFileSync(blocks, 'utf8');
    await client.open(blocks, blocksText);
    const broken = client.nextDiagnostics(uses);
    client.change(blocks, blocksText.replace('conv filters', 'conv filtres'));
    const diagnostics = await broken;
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].range.start.line).toBe(0); // the import line
    expect(diagnostics[0].message).toMatch(/blocks\.cnn:3: unknown name 'filtres'|blocks\.cnn:3: .*filtres/);
    const healed = client.nextDiagnostics(uses);
    client.change(blocks, blocksText);
    expect(await healed).toEqual([]);
  });

  it('renames a named value everywhere in its model and lists the outline', async () => {
    const path = fixture('rename.cnn');
    const text = 'model M {\n  input image: 8 x 8 x 3\n  y = image -> conv 4, 3x3\n  z = y -> relu\n  output y, z\n}\n';
    await client.open(path, text);
    const edit = (await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uriOf(path) }, position: { line: 3, character: 7 }, newName: 'features' })) as WorkspaceEdit;
    const edits = edit.changes?.[uriOf(path)] ?? [];
    expect(edits.map((e) => [e.range.start.line, e.range.start.character])).toEqual([
      [2, 2],
      [3, 6],
      [4, 9],
    ]);
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uriOf(path) } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(['M']);
    expect(symbols[0].children?.map((c) => c.name)).toEqual(['image', 'y', 'z']);
  });

  it('returns the formatted text, and no edits for a file with syntax errors', async () => {
    const path = fixture('messy.cnn');
    const messy = 'model  M {\n\n\n input image:8 x 8x3\n    conv 4,3x3,stride 2 // c\n}\n';
    await client.open(path, messy);
    const edits = (await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uriOf(path) }, options: { tabSize: 2, insertSpaces: true } })) as TextEdit[];
    expect(edits).toHaveLength(1);
    expect(edits[0].newText).toBe('model M {\n  input image: 8 x 8x3\n  conv 4, 3x3, stride 2 // c\n}\n');
    client.change(path, 'model M {\n  input image: 8 x\n  conv (\n}\n');
    const none = await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uriOf(path) }, options: { tabSize: 2, insertSpaces: true } });
    expect(none).toEqual([]);
  });
});

describe('bench/lsp.ts', () => {
  it('measures edit -> diagnostics on the ResNet-152 file through a real server', async () => {
    const { lspLatencySection } = await import('../../bench/lsp.ts');
    const [row] = await lspLatencySection({ edits: 6, warmup: 2 });
    expect(row).toMatchObject({ section: 'lsp', measure: 'edit_to_diagnostics', edits: 6, diagnostics: 0, target_ms: 30 });
    expect(row.median_ms).toBeGreaterThan(0);
    expect(row.p90_ms).toBeGreaterThanOrEqual(row.median_ms as number);
  });
});
