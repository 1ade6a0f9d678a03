// Real files as editors write them (byte-order marks, CRLF line ends), files that are not text,
// and messages that must read as the source reads (issue 13).

import { describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../grammar/diagnostics.ts';
import { checkFile } from '../../compiler/program.ts';
import { escapeControl } from '../../grammar/terminal-text.ts';
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

describe('recovery at the statement, with the likely fix', () => {
  const body = (line: string) => `model M {\n  input x: 28x28x1\n${line}\n  relu\n  flatten\n  dense 10 -> softmax\n  loss cross_entropy\n}\n`;
  const messages = (text: string) => diagnose(text).map((d) => `${d.span.startLine}: ${d.message}${d.hint ? ` | ${d.hint}` : ''}`);
  it('an unknown keyword argument: one error, a suggestion, the later lines checked', () => {
    expect(messages(body('  conv 8, 3x3, padding same'))).toEqual(["3: conv takes no keyword 'padding' | did you mean 'pad'?"]);
    expect(messages(body('  conv 8, 3x3, strides 2'))).toEqual(["3: conv takes no keyword 'strides' | did you mean 'stride'?"]);
  });
  it('a size written as a tuple', () => {
    expect(messages(body('  conv 8, (3,3)'))).toEqual(["3: syntax error: expected ')', found ',' | sizes are written with x: `3x3`, `28 x 28 x 1`, not as a tuple `(3, 3)`"]);
    expect(messages('model M {\n  input image: (28, 28, 1)\n  relu\n}\n')).toEqual([expect.stringMatching(/^2: syntax error: expected '\)', found ','/)]);
  });
  it('a negative filter count is an argument, not `conv - 8`', () => {
    expect(messages(body('  conv -8, 3x3'))).toEqual(['3: conv: filter count must be at least 1, got -8']);
  });
  it('left-over tokens on a line are one error and the next lines are still read', () => {
    expect(messages(body('  conv 8, 3x3 same\n  cnov 4, 3x3'))).toEqual([
      expect.stringMatching(/^3: syntax error: unexpected 'same'/),
      "4: unknown layer or block 'cnov' | did you mean 'conv'?",
    ]);
  });
  it('a bad input size is the only error: no "has no input", no errors on the lines after it', () => {
    expect(messages(body('').replace('28x28x1', '28x28x0'))).toEqual(['2: input sizes must be positive, got 28x28x0']);
  });
  it('a failed layer is reported once; the next lines continue from the last good value', () => {
    expect(messages(body('  conv 8, 3x3, stride 0'))).toEqual(['3: conv: stride must be at least 1, got 0']);
  });
  it('a warning inside a block names the instance', () => {
    const text = 'block b()(x) {\n  return x -> conv 1, 5x5, stride 2\n}\nmodel M {\n  input x: 6x6x1\n  b() as first\n}\n';
    expect(messages(text)).toEqual([expect.stringMatching(/^2: conv 5x5 stride 2x2 on 6x6: .* are never read \(in first\) \| /)]);
  });
  it('share of an unknown block suggests a block, not the name being declared', () => {
    const text = 'block encode(n)(x) {\n  return x\n}\nmodel M {\n  input x: 8\n  share enc = encoder(128)\n}\n';
    expect(messages(text)).toEqual(["6: unknown block 'encoder' | did you mean 'encode'?"]);
  });
});
