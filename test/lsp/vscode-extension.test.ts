// The VS Code extension: its grammar is generated from the compiler's tables, its client bridges
// VS Code's provider API to the real server (run here against a stand-in `vscode` module), and the
// packaging script writes a .vsix that a zip reader other than ours accepts.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../../compiler/layers/index.ts';
import { cnnGrammar, GRAMMAR_PATH, grammarText } from '../../editors/vscode/scripts/grammar.ts';
import { ROOT, serverCommand, uriOf } from './client.ts';

const EXTENSION_DIR = resolve(ROOT, 'editors/vscode');

function patternsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => patternsOf(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'match' || key === 'begin' || key === 'end') && typeof value === 'string') out.push(value);
      else patternsOf(value, out);
    }
  }
  return out;
}

describe('VS Code extension files', () => {
  it('ships the grammar generated from the language tables, with regexes that compile', () => {
    expect(readFileSync(GRAMMAR_PATH, 'utf8')).toBe(grammarText());
    const patterns = patternsOf(cnnGrammar());
    expect(patterns.length).toBeGreaterThan(10);
    for (const p of patterns) expect(() => new RegExp(p)).not.toThrow();
    const layers = new RegExp(patterns.find((p) => p.includes('conv2d')) ?? '$^');
    for (const name of Object.keys(LAYERS)) expect(layers.exec(`  ${name} 3`)?.[0]).toBe(name);
  });

  it('declares the language, its configuration and grammar in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(EXTENSION_DIR, 'package.json'), 'utf8'));
    expect(pkg.contributes.languages[0]).toMatchObject({ id: 'cnn', extensions: ['.cnn'] });
    expect(pkg.contributes.grammars[0]).toMatchObject({ language: 'cnn', scopeName: 'source.cnn' });
    const config = JSON.parse(readFileSync(join(EXTENSION_DIR, pkg.contributes.languages[0].configuration), 'utf8'));
    expect(config.comments.lineComment).toBe('//');
  });

  it('packages a .vsix with the manifest, content types and the extension', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cnn-vsix-')), 'cnn.vsix');
    execFileSync(process.execPath, [join(EXTENSION_DIR, 'scripts/package-vsix.mjs'), '--out', out]);
    // Python's zipfile as an independent reader: lists the entries and checks every CRC.
    const script = 'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode("utf-8", "replace") for n in z.namelist() if not n.startswith("extension/node_modules/") or n.endswith("package.json")}))';
    const entries = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, out], { encoding: 'utf8' })) as Record<string, string>;
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(['extension.vsixmanifest', '[Content_Types].xml', 'extension/package.json', 'extension/extension.js', 'extension/syntaxes/cnn.tmLanguage.json', 'extension/node_modules/vscode-jsonrpc/package.json']));
    expect(entries['extension.vsixmanifest']).toContain('<Identity Language="en-US" Id="cnn-language" Version="0.1.0" Publisher="cnnc" />');
    expect(entries['[Content_Types].xml']).toContain('<Default Extension=".json" ContentType="application/json"/>');
    expect(entries['extension/package.json']).toBe(readFileSync(join(EXTENSION_DIR, 'package.json'), 'utf8'));
  });
});

// ---- a stand-in for the `vscode` module, just what extension.js uses ---------------------------

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}
class Uri {
  constructor(readonly value: string) {}
  static parse(value: string) {
    return new Uri(value);
  }
  toString() {
    return this.value;
  }
}
class MarkdownString {
  constructor(readonly value: string) {}
}
class Hover {
  constructor(
    readonly contents: MarkdownString,
    readonly range?: Range,
  ) {}
}
class InlayHint {
  paddingLeft = false;
  constructor(
    readonly position: Position,
    readonly label: string,
  ) {}
}
class Diagnostic {
  code?: string;
  source?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}
class CompletionItem {
  detail?: string;
  constructor(
    readonly label: string,
    readonly kind: number,
  ) {}
}

type Provider = Record<string, (...args: unknown[]) => Promise<unknown>>;

function fakeVscode(command: string[]) {
  const providers = new Map<string, Provider>();
  const diagnostics = new Map<string, Diagnostic[]>();
  const listeners = new Map<string, (e: unknown) => void>();
  const register = (kind: string) => (_selector: unknown, provider: Provider) => {
    providers.set(kind, provider);
    return { dispose() {} };
  };
  const event = (name: string) => (fn: (e: unknown) => void) => {
    listeners.set(name, fn);
    return { dispose() {} };
  };
  const api = {
    Position,
    Range,
    Uri,
    MarkdownString,
    Hover,
    InlayHint,
    Diagnostic,
    CompletionItem,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2 },
    CompletionItemKind: { Text: 0, Function: 2, Class: 6, Variable: 5, Constant: 20, Keyword: 13, Property: 9 },
    workspace: {
      getConfiguration: () => ({ get: () => command }),
      workspaceFolders: [],
      textDocuments: [] as unknown[],
      onDidOpenTextDocument: event('open'),
      onDidChangeTextDocument: event('change'),
      onDidCloseTextDocument: event('close'),
    },
    window: { createOutputChannel: () => ({ append() {}, appendLine() {}, dispose() {} }), showErrorMessage() {} },
    languages: {
      createDiagnosticCollection: () => ({ set: (uri: Uri, d: Diagnostic[]) => diagnostics.set(uri.toString(), d), dispose() {} }),
      registerHoverProvider: register('hover'),
      registerCompletionItemProvider: register('completion'),
      registerSignatureHelpProvider: register('signature'),
      registerDefinitionProvider: register('definition'),
      registerReferenceProvider: register('references'),
      registerRenameProvider: register('rename'),
      registerDocumentSymbolProvider: register('symbols'),
      registerDocumentFormattingEditProvider: register('formatting'),
      registerCodeActionsProvider: register('codeActions'),
      registerInlayHintsProvider: register('inlayHints'),
    },
  };
  return { api, providers, diagnostics, listeners };
}

describe('VS Code extension client', () => {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = loader._load;
  afterAll(() => {
    loader._load = originalLoad;
  });

  it('starts the server, shows its diagnostics, hover and inlay hints through VS Code providers', async () => {
    const fake = fakeVscode([process.execPath, ...serverCommand()]);
    loader._load = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? fake.api : originalLoad.call(this, request, ...rest);
    };
    const extension = createRequire(import.meta.url)(join(EXTENSION_DIR, 'extension.js')) as {
      activate(context: { subscriptions: unknown[] }): Promise<void>;
      deactivate(): Promise<void>;
    };
    const context = { subscriptions: [] as unknown[] };
    await extension.activate(context);
    try {
      const path = resolve(ROOT, 'examples/lenet5.cnn');
      const broken = readFileSync(path, 'utf8').replace('dense 84', 'dense 84 x');
      const doc = { uri: Uri.parse(uriOf(path)), languageId: 'cnn', version: 1, getText: () => broken };
      fake.listeners.get('open')?.(doc);
      for (let i = 0; i < 3000 && !fake.diagnostics.has(uriOf(path)); i++) await new Promise((r) => setTimeout(r, 10));
      const published = fake.diagnostics.get(uriOf(path)) ?? [];
      expect(published.length).toBeGreaterThan(0);
      expect(published[0].range.start.line).toBe(9);

      const hover = (await fake.providers.get('hover')?.provideHover(doc, new Position(3, 3))) as Hover;
      expect(hover.contents.value).toContain('32 x 32 x 3 → 28 x 28 x 6');
      const hints = (await fake.providers.get('inlayHints')?.provideInlayHints(doc, new Range(new Position(0, 0), new Position(20, 0)))) as InlayHint[];
      expect(hints.map((h) => h.label)).toContain('// 14 x 14 x 6');
    } finally {
      await extension.deactivate();
    }
  });
});
