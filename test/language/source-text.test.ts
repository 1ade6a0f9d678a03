// Real files as editors write them (byte-order marks, CRLF line ends), files that are not text,
// and messages that must read as the source reads (issue 13).

import { describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../compiler/diagnostics.ts';
import { checkFile } from '../../compiler/program.ts';
import { escapeControl } from '../../compiler/terminal-text.ts';
import { unnamedTokenTypes } from '../../grammar/token-names.ts';

function diagnose(text: string): Diagnostic[] {
  return checkFile('/virtual/t.cnn', text, () => undefined).diagnostics;
}

const where = (d: Diagnostic) => `${d.span.startLine}:${d.span.startColumn}`;
const broken = 'model M {\n  input x: 8x8x1\n  conv 4, 3x3\n  dense 10\n}\n';

describe('files as editors save them', () => {
  it('CRLF line ends: errors after parsing keep their line', () => {
    const [d] = diagnose(broken.replaceAll('\n', '\r\n'));
    expect(where(d)).toBe('4:3');
  });
  it('a UTF-8 byte-order mark is not an error', () => {
    const ds = diagnose(`\uFEFF${broken}`);
    expect(ds.map((d) => [d.code, d.span.startLine])).toEqual([['CNN304', 4]]);
  });
  it('an empty file says so', () => {
    for (const text of ['', '\n\n  \n', '\uFEFF']) {
      const ds = diagnose(text);
      expect(ds.map((d) => [d.code, d.message])).toEqual([['CNN004', '/virtual/t.cnn is empty: there is nothing to check']]);
    }
  });
});

describe('files that are not .cnn text: one error', () => {
  it('UTF-16 with a byte-order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(broken, 'utf16le')]);
    const ds = diagnose(bytes.toString('utf8'));
    expect(ds).toHaveLength(1);
    expect(ds[0].message).toMatch(/^this file is UTF-16 text, not UTF-8; save it as UTF-8/);
  });
  it('UTF-16 big-endian without a mark', () => {
    const le = Buffer.from(broken, 'utf16le');
    const be = Buffer.from(le.map((_, i) => le[i ^ 1]));
    expect(diagnose(be.toString('utf8')).map((d) => d.message)).toEqual([expect.stringMatching(/UTF-16/)]);
  });
  it('binary bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 256));
    const ds = diagnose(bytes.toString('utf8'));
    expect(ds.map((d) => d.message)).toEqual([expect.stringMatching(/^this is a binary file/)]);
  });
});

describe('messages read as the source reads', () => {
  it('an unclosed block comment is one error', () => {
    const ds = diagnose('model M {\n  input x: 8\n  /* dense 4\n  dense 2\n}\n');
    expect(ds.map((d) => [where(d), d.message])).toEqual([['3:3', 'unterminated comment: this `/*` has no closing `*/`']]);
  });
  it('token names are written as the characters', () => {
    const messages = [
      ...diagnose('model M {\n  input x: 8\n  dense 2\n').map((d) => d.message),
      ...diagnose('model M {\n  input x 8\n}\n').map((d) => d.message),
      ...diagnose('model M(a = 1 {\n  input x: 8\n}\n').map((d) => d.message),
    ].join('\n');
    expect(messages).toMatch(/expected '}', found end of file/);
    expect(messages).toMatch(/expected ':'/);
    expect(messages).not.toMatch(/RBrace|EOF|Identifier|Colon|RParen|LParen|NumberLiteral/);
  });
  it('every token type has a readable name', () => {
    expect(unnamedTokenTypes()).toEqual([]);
  });
});

describe('terminal safety', () => {
  it('control characters, escapes and bidirectional overrides are shown escaped', () => {
    expect(escapeControl('a\u001b[2Jb\u202ec\u0000d\te')).toBe('a\\u{1b}[2Jb\\u{202e}c\\u{0}d\te');
    const d = diagnose('model M {\n  input x: 8\n  re\u001b[2Jlu\n}\n').find((x) => x.code === 'CNN001')!;
    const printed = formatDiagnostic(d);
    expect(printed).not.toMatch(/\u001b/);
    expect(printed).toContain('\\u{1b}');
  });
});
