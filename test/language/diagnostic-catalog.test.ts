// The diagnostic catalog (grammar/catalog/) is the one place messages live: every code has an
// entry with messages, every message is reported by the parser or checker, and no code is written
// anywhere the catalog does not know. The texts themselves are held by the tests that assert them.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, messages, RETIRED_CODES, type DiagnosticKind } from '../../grammar/diagnostics.ts';

const REPO = resolve(import.meta.dirname, '../..');
const PRODUCT = ['grammar', 'compiler', 'runtime', 'lsp', 'playground', 'cli', 'plugins'];
const kinds = Object.keys(CATALOG) as DiagnosticKind[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const product = PRODUCT.flatMap((f) => sourceFiles(join(REPO, f))).map((file) => ({ file: relative(REPO, file), text: readFileSync(file, 'utf8') }));
const inCatalog = (file: string) => file.startsWith('grammar/catalog/');

describe('the diagnostic catalog', () => {
  it('gives every code a unique number, a meaning and at least one message', () => {
    const codes = [...kinds.map((k) => CATALOG[k].code), ...Object.keys(RETIRED_CODES)];
    expect(new Set(codes).size).toBe(codes.length);
    for (const kind of kinds) {
      expect(CATALOG[kind].code, kind).toMatch(/^CNN\d{3}$/);
      expect(CATALOG[kind].title, kind).not.toBe('');
      expect(Object.keys(CATALOG[kind].messages).length, kind).toBeGreaterThan(0);
    }
  });

  it('has no message that nothing reports', () => {
    const reporting = product.filter((f) => !inCatalog(f.file)).map((f) => f.text.replace(/\s+/g, '')).join('\n');
    const unused = kinds.flatMap((kind) => Object.keys(CATALOG[kind].messages).filter((name) => !reporting.includes(`messages.${kind}.${name}(`)).map((name) => `${kind}.${name}`));
    expect(unused).toEqual([]);
  });

  it('knows every code written in the product and its tests', () => {
    const known = new Set<string>(kinds.map((k) => CATALOG[k].code));
    const files = [...product, ...sourceFiles(join(REPO, 'test')).map((file) => ({ file: relative(REPO, file), text: readFileSync(file, 'utf8') }))].filter((f) => !inCatalog(f.file));
    // A retired code is named nowhere but in the catalog: it is not reported, so nothing can expect it.
    const unknown = files.flatMap((f) => [...f.text.matchAll(/\bCNN\d{3}\b/g)].map((m) => m[0]).filter((code) => !known.has(code)).map((code) => `${f.file}: ${code}`));
    expect(unknown).toEqual([]);
    // Outside the catalog, code recognises a diagnostic by kind (`codeOf('shapeMismatch')`), never by a code in a string.
    expect(product.filter((f) => !inCatalog(f.file) && /['"]CNN\d{3}['"]/.test(f.text)).map((f) => f.file)).toEqual([]);
  });

  it('makes each message with its code, text and hint', () => {
    const m = messages.unknownName.value({ name: 'cnov', guess: 'conv' });
    expect(m).toEqual({ kind: 'unknownName', text: "unknown name 'cnov'", hint: "did you mean 'conv'?" });
    expect(messages.unknownName.value({ name: 'zzz' })).toEqual({ kind: 'unknownName', text: "unknown name 'zzz'" });
  });
});
