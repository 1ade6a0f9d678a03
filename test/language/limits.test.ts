// Inputs that used to overflow the stack, hang or run out of memory: each ends in one diagnostic
// naming the limit, in bounded time (issue 13).

import { describe, expect, it } from 'vitest';
import { didYouMean, formatDiagnostic, type Diagnostic } from '../../grammar/diagnostics.ts';
import { formatCnn } from '../../compiler/format/printer.ts';
import { checkFile } from '../../compiler/program.ts';
import { analyse, CHECK_BUDGET_MS } from '../../lsp/analysis.ts';

function diagnose(text: string): Diagnostic[] {
  return checkFile('/virtual/t.cnn', text, () => undefined).diagnostics;
}

const model = (body: string) => `model M {\n  input x: 8x8x1\n${body}\n}\n`;

function blockChain(levels: number, uses: number): string {
  let s = 'block b0()(x) {\n  return relu(x)\n}\n';
  for (let i = 1; i <= levels; i++) s += `block b${i}()(x) {\n  return x${` -> b${i - 1}`.repeat(uses)}\n}\n`;
  return s + model(`  b${levels}`);
}

describe('nesting is bounded with a diagnostic', () => {
  it('1,000 nested parentheses in an argument', () => {
    const ds = diagnose(model(`  conv ${'('.repeat(1000)}4${')'.repeat(1000)}, 3x3`));
    expect(ds.map((d) => [d.code, d.message])).toEqual([['CNN003', "nesting deeper than 64 levels of '(' and '{'"]]);
  });
  it('500 nested repeat blocks', () => {
    const ds = diagnose(model(`${'repeat 1 {\n'.repeat(500)}relu\n${'}\n'.repeat(500)}`));
    expect(ds.map((d) => d.code)).toEqual(['CNN003']);
  });
  it('a sum of 3,000 terms', () => {
    const ds = diagnose(model(`  conv ${Array(3000).fill('1').join(' + ')}, 3x3`));
    expect(ds.map((d) => [d.code, d.span.startLine])).toEqual([['CNN003', 3]]);
    expect(ds[0].message).toMatch(/expression nests deeper than 256 levels/);
  });
  it('a loss of 3,000 terms', () => {
    const ds = diagnose(model(`  flatten\n  dense 2\n  loss ${Array(3000).fill('mse').join(' + ')}`));
    expect(ds.map((d) => d.code)).toEqual(['CNN003']);
  });
  it('200 blocks each applying the one before', () => {
    const ds = diagnose(blockChain(200, 1));
    expect(ds.map((d) => d.code)).toEqual(['CNN107']);
    expect(ds[0].message).toMatch(/^blocks nested deeper than 64 levels/);
  });
  it('thousands of broken lines in one loop: the parser recovers a bounded number of times', () => {
    const ds = diagnose(`{el M {\n  input x: 8\n${'  dense 8\n'.repeat(5000)}}\n`);
    expect(ds.length).toBeGreaterThan(1);
    expect(ds.length).toBeLessThan(400);
    expect(ds.every((d) => d.code === 'CNN002' || d.code === 'CNN001')).toBe(true);
  });
  it('moderate nesting still checks', () => {
    expect(diagnose(model(`  conv ${'('.repeat(40)}4${')'.repeat(40)}, 3x3`))).toEqual([]);
    expect(diagnose(blockChain(30, 1))).toEqual([]);
  });
  it('the formatter, which works on tokens, lays out deep nesting without recursing', () => {
    const text = model(`  conv ${'('.repeat(1000)}4${')'.repeat(1000)}, 3x3`);
    const r = formatCnn(text, 'deep.cnn');
    expect(r.ok && r.text).toBe(text);
  });
  it('diagnostics name the file and position', () => {
    const [d] = diagnose(model(`  conv ${'('.repeat(100)}4${')'.repeat(100)}, 3x3`));
    expect(formatDiagnostic(d)).toMatch(/^\/virtual\/t\.cnn:3:71: error: nesting deeper than 64/);
  });
});

describe('expansion limits hold as the expansion grows', () => {
  it('nested repeats of 100,000 each', () => {
    const ds = diagnose(model('  repeat 100000 { repeat 100000 { relu } }'));
    expect(ds.map((d) => [d.code, d.message])).toEqual([['CNN107', 'the model expands to more than 50,000 layers']]);
  });
  it('nested repeats with empty bodies', () => {
    const ds = diagnose(model('  repeat 100000 { repeat 100000 { } }\n  relu'));
    expect(ds.map((d) => d.code)).toEqual(['CNN107']);
    expect(ds[0].message).toMatch(/more than 250,000 statements/);
  });
  it('40 blocks each applying the previous twice (2^40 layers)', () => {
    const ds = diagnose(blockChain(40, 2));
    expect(ds.map((d) => d.code)).toEqual(['CNN107']);
  });
});

describe('did-you-mean on long names', () => {
  it('a 20,000-character name against a long candidate answers at once', () => {
    const long = 'a'.repeat(20_000);
    const started = performance.now();
    expect(didYouMean(long, [`${long}b`, 'conv'])).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2000);
  });
  it('still suggests for ordinary names', () => {
    expect(didYouMean('cnov', ['conv', 'dense'])).toBe('conv');
    expect(didYouMean('clases', ['classes'])).toBe('classes');
  });
});

describe('bad values are refused where they are written', () => {
  it('integers beyond 2^53', () => {
    const ds = diagnose(model('  conv 100000000000000000000, 3x3'));
    expect(ds.map((d) => [d.code, d.message])).toEqual([['CNN204', '100000000000000000000 is beyond 2^53 (9,007,199,254,740,991), where whole numbers are no longer exact']]);
    expect(diagnose(model('  conv 4000000000 * 4000000000, 3x3')).map((d) => d.code)).toEqual(['CNN204']);
  });
  it('a number that overflows to infinity', () => {
    const ds = diagnose(model('  batchnorm eps 1e999'));
    expect(ds.map((d) => [d.code, d.message])).toEqual([['CNN204', '1e999 is too large to be a number (it overflows to infinity)']]);
  });
  it('a duplicate block or model parameter', () => {
    const ds = diagnose(`block b(f, f)(x) {\n  return x\n}\n${model('  b(1, 2)')}`);
    expect(ds.map((d) => [d.code, `${d.span.startLine}:${d.span.startColumn}`, d.message])).toEqual([['CNN101', '1:12', "b has two parameters or inputs named 'f' (the first at column 9)"]]);
    expect(diagnose('block c(x)(x) {\n  return x\n}\n').map((d) => d.code)).toEqual(['CNN101']);
  });
  it('fractions in messages are short', () => {
    const ds = diagnose(model('  conv 10 / 3, 3x3'));
    expect(ds[0].message).toMatch(/got 3\.33333$/);
  });
});

describe('a time budget per check (the language server)', () => {
  it('a check over its budget stops with one diagnostic saying so', () => {
    const text = model('  repeat 40000 { relu }');
    const { diagnostics } = checkFile('/virtual/t.cnn', text, () => undefined, 1);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([['CNN107', 'checking stopped after 1 ms: this model is too large to check as you type']]);
    expect(checkFile('/virtual/t.cnn', text, () => undefined).diagnostics).toEqual([]);
  });
  it('the editor analysis of a model that doubles 40 times answers within its budget', () => {
    const started = performance.now();
    const a = analyse({ uri: 'file:///virtual/t.cnn', version: 1, text: blockChain(40, 2) }, () => undefined);
    expect(performance.now() - started).toBeLessThan(CHECK_BUDGET_MS + 3000);
    expect(a.diagnostics.map((d) => d.code)).toEqual(['CNN107']);
  });
});
