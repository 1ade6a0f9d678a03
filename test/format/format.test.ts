// The .cnn formatter (prettier plugin) and `cnnc fmt`.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runFmt } from '../../cli/fmt.ts';
import { formatCnn } from '../../compiler/format/printer.ts';
import { formatWithPrettier } from '../../compiler/format/prettier-plugin.ts';
import { cnnLexer } from '../../grammar/tokens.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const cnnFiles = ['stdlib', 'examples'].flatMap((dir) =>
  readdirSync(resolve(ROOT, dir))
    .filter((f) => f.endsWith('.cnn'))
    .map((f) => `${dir}/${f}`),
);

function format(text: string): string {
  const r = formatCnn(text);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.text;
}

const images = (text: string) => cnnLexer.tokenize(text).tokens.filter((t) => t.tokenType.name !== 'Newline').map((t) => t.image);

describe('formatter', () => {
  it.each(cnnFiles)('%s is formatted', async (file) => {
    const text = readFileSync(resolve(ROOT, file), 'utf8');
    expect(await formatWithPrettier(text, file)).toBe(text);
  });

  it('normalises spacing, indentation and blank lines, keeping comments', () => {
    const messy = [
      'import  "./blocks.cnn"',
      '/// A doc comment.',
      'model  M( a=1,b = 2 ) {',
      '',
      '',
      '     input image:32 x 32 x 3 // the input',
      '',
      '',
      '',
      '  // a comment line',
      '     y = image -> conv a*2,5x5,stride 2,pad same->relu',
      '  -> maxpool 2x2',
      '  z = relu(y+image)',
      '  for i in 1..3 {',
      '  dense 10,bias off',
      '  }',
      '  x2 = conv 4, 5 x f, alpha -0.1, pad a - 1',
      '',
      '}',
    ].join('\n');
    expect(format(messy)).toBe(
      [
        'import "./blocks.cnn"',
        '/// A doc comment.',
        'model M(a = 1, b = 2) {',
        '  input image: 32 x 32 x 3 // the input',
        '',
        '  // a comment line',
        '  y = image -> conv a * 2, 5x5, stride 2, pad same -> relu',
        '    -> maxpool 2x2',
        '  z = relu(y + image)',
        '  for i in 1..3 {',
        '    dense 10, bias off',
        '  }',
        '  x2 = conv 4, 5 x f, alpha -0.1, pad a - 1',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('aligns the trailing comments of consecutive lines at the column most of them use', () => {
    // Columns 19, 22, 22 and 10: most are at 22. The last line's code is too long to align and keeps its gap.
    const text = 'model M {\n  input image: 8 x 8 x 1\n  conv 2, 3x3      // 6 x 6 x 2\n  conv 2,3x3          // 4 x 4 x 2\n      conv 2, 3x3         // 2 x 2 x 2\n  flatten // 8\n  conv 2, 1x1, stride 1, pad 0  // 1 x 1 x 2\n}\n';
    expect(format(text)).toBe(
      'model M {\n  input image: 8 x 8 x 1\n  conv 2, 3x3         // 6 x 6 x 2\n  conv 2, 3x3         // 4 x 4 x 2\n  conv 2, 3x3         // 2 x 2 x 2\n  flatten             // 8\n  conv 2, 1x1, stride 1, pad 0  // 1 x 1 x 2\n}\n',
    );
  });

  it('refuses a file with syntax errors', async () => {
    expect(formatCnn('model M {\n  conv (\n').ok).toBe(false);
    await expect(formatWithPrettier('model {', 'bad.cnn')).rejects.toThrow(/bad\.cnn:1:7: error: syntax error/);
  });

  it('is idempotent and keeps every token on whitespace-perturbed files', () => {
    const sources = cnnFiles.map((f) => readFileSync(resolve(ROOT, f), 'utf8'));
    const perturbed = fc.tuple(fc.constantFrom(...sources), fc.array(fc.constantFrom('', ' ', '   ', '\t', '\n'), { minLength: 1, maxLength: 64 })).map(([text, pads]) =>
      // Extra indentation, trailing spaces and blank lines: whitespace that never changes a token.
      text
        .split('\n')
        .map((line, i) => pads[i % pads.length].replace('\n', '') + line + (line.includes('//') ? '' : pads[(i + 1) % pads.length].replace('\n', ' ')) + (pads[i % pads.length] === '\n' ? '\n' : ''))
        .join('\n'),
    );
    fc.assert(
      fc.property(perturbed, (text) => {
        const once = format(text);
        expect(format(once)).toBe(once);
        expect(images(once)).toEqual(images(text));
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('cnnc fmt', () => {
  const written: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    written.length = 0;
  });
  const capture = () =>
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });

  it('--check lists unformatted files and exits 1; --write fixes them; then --check passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-fmt-'));
    const ugly = join(dir, 'ugly.cnn');
    const fine = join(dir, 'fine.cnn');
    writeFileSync(ugly, 'model M {\ninput image: 4 x 4 x 1\n    flatten\n}\n');
    writeFileSync(fine, 'model N {\n  input image: 4 x 4 x 1\n}\n');
    capture();
    expect(await runFmt(['--check', dir])).toBe(1);
    expect(written.join('')).toBe(`${ugly}\n`);
    expect(await runFmt(['--write', ugly])).toBe(0);
    expect(readFileSync(ugly, 'utf8')).toBe('model M {\n  input image: 4 x 4 x 1\n  flatten\n}\n');
    expect(readdirSync(dir).sort()).toEqual(['fine.cnn', 'ugly.cnn']);
    written.length = 0;
    expect(await runFmt(['--check', dir])).toBe(0);
    expect(written.join('')).toBe('');
    expect(await runFmt([fine])).toBe(0);
    expect(written.join('')).toBe(readFileSync(fine, 'utf8'));
  });
});
