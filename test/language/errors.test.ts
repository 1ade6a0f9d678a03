// Each error class of the checker: a broken file, the expected message (with the rule's
// arithmetic and the producing layer's name) and the exact span (issue 2).

import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../grammar/diagnostics.ts';
import { checkFile, compileModel } from '../../compiler/program.ts';

function diagnose(text: string, files: Record<string, string> = {}): Diagnostic[] {
  return checkFile('/virtual/test.cnn', text, (p) => files[p]).diagnostics;
}

/** The single diagnostic of a file, as `line:col-endCol code severity message | hint`. */
function only(text: string, files: Record<string, string> = {}): { where: string; code: string; severity: string; message: string; hint?: string } {
  const ds = diagnose(text, files);
  expect(ds.map((d) => d.message)).toHaveLength(1);
  const d = ds[0];
  return { where: `${d.span.startLine}:${d.span.startColumn}-${d.span.endColumn}`, code: d.code, severity: d.severity, message: d.message, hint: d.hint };
}

const model = (body: string, header = 'model M') => `${header} {\n${body}\n}\n`;

describe('names', () => {
  it('unknown layer, with did-you-mean and a fix', () => {
    const ds = diagnose(model('  input x: 8 x 8 x 1\n  cnov 6, 3x3'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'CNN100', message: "unknown layer or block 'cnov'", hint: "did you mean 'conv'?" });
    expect([ds[0].span.startLine, ds[0].span.startColumn, ds[0].span.endColumn]).toEqual([3, 3, 7]);
    expect(ds[0].fix?.text).toBe('conv');
  });
  it('unknown value name, with did-you-mean', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  flatten\n  dense clases', 'model M(classes = 3)'));
    expect(d).toMatchObject({ where: '4:9-15', code: 'CNN100', message: "unknown name 'clases'", hint: "did you mean 'classes'?" });
  });
  it('undefined block input', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  y = z -> relu'));
    expect(d).toMatchObject({ where: '3:7-8', message: "unknown name 'z'", hint: "did you mean 'x'?" });
  });
  it('duplicate layer names', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  conv 4, 3x3 as c1\n  conv 4, 3x3 as c1'));
    expect(d).toMatchObject({ where: '4:18-20', code: 'CNN101', message: "a layer named 'c1' already exists" });
  });
  it('use before definition (a cycle)', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  a = b -> relu\n  b = a -> relu'));
    expect(d.code).toBe('CNN102');
    expect(d.where).toBe('3:7-8');
    expect(d.message).toMatch(/'b' is used before it is defined \(line 4\).*cycle/);
  });
  it('recursive blocks', () => {
    const text = `block a()(x) {\n  x -> b()\n}\nblock b()(x) {\n  x -> a()\n}\n${model('  input x: 8 x 8 x 1\n  a()')}`;
    const d = only(text);
    expect(d.code).toBe('CNN103');
    expect(d.message).toBe('block a uses itself (a -> b -> a); blocks cannot be recursive');
    expect(d.where).toBe('5:8-11');
  });
  it('a model with no input', () => {
    const d = only('model Empty {\n  conv 6, 5x5\n}\n'.replace('  conv 6, 5x5\n', ''));
    expect(d).toMatchObject({ where: '1:7-12', code: 'CNN106', message: 'model Empty has no input' });
  });
  it('a layer with nothing before it', () => {
    const ds = diagnose('model M {\n  conv 6, 5x5\n}\n');
    expect(ds.map((d) => d.code).sort()).toEqual(['CNN106', 'CNN106']);
    expect(ds.some((d) => d.message === 'conv has no input: nothing comes before it' && d.span.startLine === 2)).toBe(true);
  });
});

describe('arguments', () => {
  it('missing kernel size', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  conv 6'));
    expect(d).toMatchObject({ where: '3:3-9', code: 'CNN200', message: 'conv needs a filter count and a kernel size, e.g. `conv 32, 3x3`' });
  });
  it('a keyword the layer does not take', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  flatten\n  dense 10, stride 2'));
    expect(d).toMatchObject({ where: '4:13-21', code: 'CNN200', message: "dense takes no keyword 'stride'" });
  });
  it('non-integer sizes', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  conv f / 2, 3x3', 'model M(f = 5)'));
    expect(d).toMatchObject({ where: '3:8-13', code: 'CNN201', message: 'conv: filter count must be a whole number, got 2.5' });
  });
  it('division by zero', () => {
    const d = only(model('  input x: 8 x 8 x 1\n  conv 6, 3x3, stride 2 / (k - 1)', 'model M(k = 1)'));
    expect(d).toMatchObject({ where: '3:23-34', code: 'CNN202', message: 'division by zero: 2 / 0' });
  });
});

describe('shapes', () => {
  it('non-positive output size, with the arithmetic', () => {
    const d = only(model('  input x: 5 x 5 x 3\n  conv 8, 7x7'));
    expect(d.code).toBe('CNN300');
    expect(d.where).toBe('3:3-14');
    expect(d.message).toBe('conv 7x7 on 5x5x3 from x gives height 5 + 2*0 - 7 + 1 = -1, below 1');
  });
  it('fractional output size is a warning that shows the floor', () => {
    const d = only(model('  input x: 6 x 6 x 1\n  conv 1, 5x5, stride 2'));
    expect(d).toMatchObject({ code: 'CNN301', severity: 'warning', where: '3:3-24' });
    expect(d.message).toBe(
      'conv 5x5 stride 2x2 on 6x6: height (6 + 2*0 - 5)/2 + 1 = 1.5, width (6 + 2*0 - 5)/2 + 1 = 1.5, floored to 1x1; the last 1/1 input position(s) along height and width are never read',
    );
  });
  it('`round floor` accepts the floor without a warning', () => {
    expect(diagnose(model('  input x: 6 x 6 x 1\n  conv 1, 5x5, stride 2, round floor'))).toEqual([]);
  });
  it('add mismatch names both producers and suggests a 1x1 projection', () => {
    const text = model('  input x: 56 x 56 x 64\n  y = x -> conv 256, 3x3, stride 2, pad same\n  z = y + x');
    const d = only(text);
    expect(d).toMatchObject({ where: '4:7-12', code: 'CNN302' });
    expect(d.message).toBe('cannot add 28x28x256 from y and 56x56x64 from x: spatial 28x28 vs 56x56, channels 256 vs 64');
    expect(d.hint).toBe('project the shortcut with `conv 256, 1x1, stride 2` (a convolutional block) so that it becomes 28x28x256');
  });
  it('concat mismatch', () => {
    const d = only(model('  input x: 28 x 28 x 64\n  a = x -> maxpool 2x2\n  concat(x, a)'));
    expect(d.code).toBe('CNN302');
    expect(d.message).toBe('cannot concatenate 28x28x64 from x and 14x14x64 from a along channels: spatial 28x28 vs 14x14');
  });
  it('dense on an unflattened input, with a fix that inserts flatten', () => {
    const ds = diagnose(model('  input x: 32 x 32 x 3\n  conv 6, 5x5 -> maxpool 2x2\n  dense 120'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'CNN304', message: 'dense expects a vector, got 14x14x6 from maxpool_1', hint: 'insert `flatten` before it (14x14x6 flattens to 1176)' });
    expect([ds[0].span.startLine, ds[0].span.startColumn]).toEqual([4, 3]);
    expect(ds[0].fix?.text).toBe('flatten -> ');
  });
  it('a layer of the wrong rank', () => {
    const d = only(model('  input x: 400\n  conv2d 6, 5x5'));
    expect(d).toMatchObject({ where: '3:3-9', code: 'CNN303', message: 'conv2d expects H x W x C, got 400 from x', hint: 'a vector has no spatial axes; reshape it first' });
  });
  it('conv1d on an image', () => {
    const d = only(model('  input x: 8 x 8 x 3\n  conv1d 6, 3'));
    expect(d).toMatchObject({ code: 'CNN303', message: 'conv1d expects L x C, got 8x8x3 from x', hint: 'use conv2d for a 8x8x3 input' });
  });
  it('loss term on a tensor of the wrong shape', () => {
    const d = only(model('  input x: 8 x 8 x 3\n  conv 4, 3x3 as features\n  loss cross_entropy(features)'));
    expect(d).toMatchObject({ where: '4:8-31', code: 'CNN305', message: 'cross_entropy expects a vector of class scores, got 6x6x4 from features' });
  });
  it('triplet loss on embeddings of different sizes', () => {
    const d = only(model('  input a: 8\n  input b: 4\n  loss triplet(a, b, a)'));
    expect(d.message).toBe('triplet needs tensors of one shape, got 8 from a and 4 from b');
  });
});

describe('imports and models', () => {
  it('a block from another file', () => {
    const files = { '/virtual/blocks.cnn': 'block stem(f)(x) {\n  conv f, 3x3 -> relu\n}\n' };
    expect(diagnose(`import "./blocks.cnn"\n${model('  input x: 8 x 8 x 1\n  stem(4)')}`, files)).toEqual([]);
  });
  it('a missing import', () => {
    const d = only(`import "./nope.cnn"\n${model('  input x: 8 x 8 x 1')}`);
    expect(d).toMatchObject({ where: '1:1-20', code: 'CNN104' });
  });
  it('--set of an unknown parameter', () => {
    const r = compileModel({ file: '/virtual/t.cnn', text: model('  input x: 4', 'model M(classes = 2)'), overrides: { clases: 3 }, readText: () => undefined });
    expect(r.diagnostics.map((d) => d.message)).toEqual(["model M has no parameter 'clases' (from --set)"]);
  });
});

describe('parser recovery', () => {
  it('reports every syntax error of a file, not only the first', () => {
    const text = 'model M {\n  input x: 8 x 8 x 1\n  conv 6, , 3x3\n  dense 10 ->\n  maxpool 2x2 stride 2\n}\n';
    const ds = diagnose(text);
    const lines = [...new Set(ds.filter((d) => d.code === 'CNN002').map((d) => d.span.startLine))];
    // One error per broken line, and none cascading onto the lines after them.
    expect(lines).toEqual([3, 5]);
  });
  it('reports an unterminated model at the end of the file', () => {
    const ds = diagnose('model M {\n  input x: 8 x 8 x 1\n');
    expect(ds.some((d) => d.code === 'CNN002')).toBe(true);
  });
});
