// Language constructs beyond the course's worked examples: tensor arithmetic, shared weights,
// asymmetric padding, loops, member access, and the line rules of the grammar.

import { describe, expect, it } from 'vitest';
import { namedOutputs } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';

function graphOf(text: string, model?: string) {
  const r = compileModel({ file: '/virtual/t.cnn', text, model, readText: () => undefined });
  expect(r.diagnostics.map((d) => `${d.span.startLine}:${d.span.startColumn} ${d.message}`)).toEqual([]);
  return r.graph!;
}

describe('tensor arithmetic', () => {
  it('a - b and abs make the Siamese distance |f(a) - f(b)|', () => {
    const g = graphOf('model M {\n  input a: 8\n  input b: 8\n  abs(a - b) -> dense 1 -> sigmoid\n}\n');
    expect(g.layers.map((l) => [l.attrs.op, l.inputs.join(','), l.shape.join('x')])).toEqual([
      ['subtract', 'a,b', '8'],
      ['abs', 'subtract_1', '8'],
      ['dense', 'abs_1', '1'],
      ['sigmoid', 'dense_1', '1'],
    ]);
  });
  it('a residual sum of three tensors', () => {
    const g = graphOf('model M {\n  input x: 4 x 4 x 2\n  a = x -> relu\n  b = x -> tanh\n  y = add(x, a, b)\n}\n');
    expect(g.layers.at(-1)).toMatchObject({ name: 'y', inputs: ['x', 'a', 'b'], shape: [4, 4, 2] });
  });
});

describe('padding and arguments', () => {
  it('zero_pad before/after pads each side on its own', () => {
    const g = graphOf('model M {\n  input x: 5 x 5 x 1\n  zero_pad before 3, after 4\n  zero_pad before 0x1, after 1x0\n}\n');
    expect(g.layers.map((l) => l.shape.join('x'))).toEqual(['12x12x1', '13x13x1']);
  });
  it('a parenthesised first argument after a space is an argument, not a call', () => {
    const g = graphOf('model M(f = 5) {\n  input x: 8 x 8 x 1\n  zero_pad (f - 1) / 2\n  conv (f + 1) * 2, f x f\n}\n');
    expect(g.layers.map((l) => l.shape.join('x'))).toEqual(['12x12x1', '8x8x12']);
  });
  it('integer arithmetic with precedence in sizes: f * 2 + 1 x f', () => {
    const g = graphOf('model M(f = 2) {\n  input x: 9 x 9 x 1\n  conv 4, f * 2 + 1 x f + 1, stride 1 + 1, round floor\n}\n');
    expect(g.layers[0].attrs).toMatchObject({ kernel: [5, 3], stride: [2, 2] });
    expect(g.layers[0].shape).toEqual([3, 4, 4]);
  });
});

describe('blocks, loops and names', () => {
  const blocks = 'block unit(f)(x) {\n  conv f, 3x3, pad same -> relu\n}\n';
  it('repeat and for unroll with stable generated names', () => {
    const g = graphOf(`${blocks}model M {\n  input x: 8 x 8 x 2\n  repeat 2 { unit(4) }\n  for i in 1..2 { conv 2 * i, 1x1 }\n}\n`);
    expect(g.layers.map((l) => l.name)).toEqual(['unit_1.conv_1', 'unit_1.relu_1', 'unit_2.conv_1', 'unit_2.relu_1', 'conv_1', 'conv_2']);
    expect(g.layers.at(-1)!.shape).toEqual([8, 8, 4]);
  });
  it('shared instances keep one set of weights under the instance name', () => {
    const g = graphOf(`${blocks}model M {\n  input a: 8 x 8 x 1\n  input b: 8 x 8 x 1\n  share tower = unit(3)\n  fa = tower(a)\n  fb = tower(b)\n}\n`);
    const convs = g.layers.filter((l) => l.attrs.op === 'conv');
    expect(convs.map((l) => [l.name, l.paramOwner, l.params.map((p) => p.name).join(',')])).toEqual([
      ['fa.conv_1', 'fa.conv_1', 'tower.conv_1.weight,tower.conv_1.bias'],
      ['fb.conv_1', 'fa.conv_1', ''],
    ]);
  });
  it('outputs carry the names the model file gives them: a binding, else the layer or input', () => {
    const g = graphOf(`${blocks}model M {\n  input a: 8 x 8 x 1\n  input b: 8 x 8 x 1\n  share tower = unit(3)\n  fa = tower(a)\n  fb = tower(b)\n  h = a -> relu\n  output fa, fb, h, fa.conv_1, b\n}\n`);
    expect(namedOutputs(g)).toEqual([
      { name: 'fa', tensor: 'fa.relu_1' },
      { name: 'fb', tensor: 'fb.relu_1' },
      { name: 'h', tensor: 'h' },
      { name: 'fa.conv_1', tensor: 'fa.conv_1' },
      { name: 'b', tensor: 'b' },
    ]);
    const plain = graphOf(`${blocks}model M {\n  input x: 8 x 8 x 1\n  unit(2)\n}\n`);
    expect([plain.outputNames, namedOutputs(plain)]).toEqual([undefined, [{ name: 'unit_1.relu_1', tensor: 'unit_1.relu_1' }]]);
  });
  it('member access reads a layer inside an instance, and freeze stops its training', () => {
    const g = graphOf(`${blocks}model M {\n  input x: 8 x 8 x 1\n  unit(3) as stem\n  y = stem.conv_1 -> relu\n  freeze stem\n}\n`);
    expect(g.layers.at(-1)!.inputs).toEqual(['stem.conv_1']);
    expect(g.layers.find((l) => l.name === 'stem.conv_1')!.params.every((p) => !p.trainable)).toBe(true);
  });
  it('a trainable input and weighted loss terms', () => {
    const g = graphOf('model M(alpha = 10) {\n  input img: 4 x 4 x 3 trainable\n  conv 2, 1x1 as f\n  loss alpha * total_variation(img) + 0.5 * (2 * mse(f))\n}\n');
    expect(g.inputs[0].trainable).toBe(true);
    expect(g.loss.map((t) => [t.fn, t.weight, t.args.join(',')])).toEqual([
      ['total_variation', 10, 'img'],
      ['mse', 1, 'f'],
    ]);
  });
  it('doc comments travel to the model, inputs and layers', () => {
    const g = graphOf('/// The model.\nmodel M {\n  /// Pixels.\n  input x: 4\n  /// The head.\n  dense 2\n}\n');
    expect([g.doc, g.inputs[0].doc, g.layers[0].doc]).toEqual(['The model.', 'Pixels.', 'The head.']);
  });
});
