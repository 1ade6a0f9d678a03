// Grammar-aware generation of .cnn programs for fuzzing: real statements with adversarial values
// (huge counts, zero, negative, fractions, infinity), long names, deep nesting of parentheses,
// loops and blocks, plus character-level mutation of what it generates.

import fc from 'fast-check';

const smallInt = fc.integer({ min: 1, max: 64 }).map(String);
const nastyNumber = fc.constantFrom('0', '-1', '-8', '1.5', '10 / 3', '100000', '1e9', '100000000000000000000', '1e999', '4000000000 * 4000000000', '2 % 0', '(1 - 1)');
const number = fc.oneof({ weight: 4, arbitrary: smallInt }, { weight: 1, arbitrary: nastyNumber });
const shortName = fc.constantFrom('x', 'y', 'a', 'b', 'f', 'n', 'conv', 'relu', 'enc', 'classes', 'res', 'pad', 'same');
const longName = fc.integer({ min: 50, max: 20_000 }).map((n) => `v${'a'.repeat(n)}`);
const name = fc.oneof({ weight: 8, arbitrary: shortName }, { weight: 1, arbitrary: longName });

function nested(depth: number, inner: string): string {
  return `${'('.repeat(depth)}${inner}${')'.repeat(depth)}`;
}

const expression = fc.oneof(
  { weight: 6, arbitrary: number },
  { weight: 2, arbitrary: name },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 300 }), number).map(([d, n]) => nested(d, n)) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 4000 }).map((n) => Array(n).fill('1').join(' + ')) },
);

const size = fc.oneof(fc.tuple(number, number).map(([a, b]) => `${a}x${b}`), number, fc.constant('(3, 3)'));
const keyword = fc.tuple(fc.constantFrom('stride', 'pad', 'padding', 'eps', 'rate', 'kernel', 'dilation'), fc.oneof(number, fc.constantFrom('same', 'valid'))).map(([k, v]) => `, ${k} ${v}`);

const layer = fc.oneof(
  fc.tuple(expression, size, fc.array(keyword, { maxLength: 2 })).map(([n, k, kws]) => `conv ${n}, ${k}${kws.join('')}`),
  fc.tuple(size, fc.array(keyword, { maxLength: 1 })).map(([k, kws]) => `maxpool ${k}${kws.join('')}`),
  fc.constantFrom('relu', 'flatten', 'batchnorm', 'softmax', 'sigmoid', 'tanh', 'dropout 0.5', 'global_avgpool'),
  expression.map((n) => `dense ${n}`),
  fc.tuple(name, name).map(([a, b]) => `add(${a}, ${b})`),
  name,
);

const chain = fc.tuple(fc.option(name, { nil: undefined }), fc.array(layer, { minLength: 1, maxLength: 4 })).map(([target, stages]) => `${target ? `${target} = ` : ''}${stages.join(' -> ')}`);

type Body = string[];
const statement: fc.Arbitrary<string> = fc.letrec<{ st: string; body: Body }>((tie) => ({
  st: fc.oneof(
    { weight: 6, arbitrary: chain },
    { weight: 1, arbitrary: fc.tuple(expression, tie('body')).map(([n, b]) => `repeat ${n} {\n${b.join('\n')}\n}`) },
    { weight: 1, arbitrary: fc.tuple(name, expression, expression, tie('body')).map(([v, a, z, b]) => `for ${v} in ${a}..${z} {\n${b.join('\n')}\n}`) },
    { weight: 1, arbitrary: fc.tuple(name, name, expression).map(([s, blk, n]) => `share ${s} = ${blk}(${n})`) },
  ),
  body: fc.array(tie('st'), { maxLength: 3 }),
})).st;

const inputLine = fc.oneof(fc.tuple(number, number, number).map(([h, w, c]) => `input x: ${h}x${w}x${c}`), fc.constant('input image: (28, 28, 1)'), fc.constant('input x: 28x28x1'));
const loss = fc.constantFrom('', 'loss cross_entropy', 'loss binary_cross_entropy', 'loss mse', 'loss 0.3 * cross_entropy + mse', `loss ${Array(300).fill('mse').join(' + ')}`);

const block = fc.tuple(name, fc.array(name, { maxLength: 3 }), fc.array(statement, { maxLength: 3 })).map(([n, params, body]) => `block ${n}(${params.join(', ')})(x) {\n${body.join('\n')}\n  return x\n}`);

/** `levels` blocks, each applying the one before `uses` times, and a model applying the last: uses^levels layers. */
export function blockChain(levels: number, uses: number): string {
  let s = 'block b0()(x) {\n  return relu(x)\n}\n';
  for (let i = 1; i <= levels; i++) s += `block b${i}()(x) {\n  return x${` -> b${i - 1}`.repeat(uses)}\n}\n`;
  return `${s}model M {\n  input x: 8x8x1\n  b${levels}\n}\n`;
}

/** Deep structure the generator above reaches only rarely: nested repeats, chains of blocks. */
const deep = fc.oneof(
  fc.integer({ min: 1, max: 600 }).map((d) => `model M {\n  input x: 8x8x1\n${'repeat 2 {\n'.repeat(d)}relu\n${'}\n'.repeat(d)}}\n`),
  fc.tuple(fc.integer({ min: 2, max: 120 }), fc.integer({ min: 1, max: 3 })).map(([levels, uses]) => blockChain(levels, uses)),
  fc.integer({ min: 1, max: 3000 }).map((n) => `model M {\n  input x: 8\n${'  dense 8\n'.repeat(n)}}\n`),
  // Long runs of one thing, where work per item that grows with the run is quadratic overall.
  fc.tuple(fc.integer({ min: 1, max: 30_000 }), fc.constantFrom(' + ', ' * ', 'x', ', ')).map(([n, op]) => `model M {\n  input x: 8x8x1\n  conv ${Array(n).fill('1').join(op)}, 3x3\n}\n`),
  fc.integer({ min: 1, max: 30_000 }).map((n) => `model M {\n${'  repeat 1 {\n'.repeat(n)}`),
  fc.integer({ min: 1, max: 30_000 }).map((n) => `model M {\n  input x: 8\n${'  /// doc\n'.repeat(n)}  relu\n}\n`),
);

export const program: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.array(block, { maxLength: 2 }), fc.array(statement, { maxLength: 6 }), inputLine, loss).map(([blocks, body, input, l]) => `${blocks.join('\n')}\nmodel M(classes = 10) {\n  ${input}\n${body.map((s) => `  ${s}`).join('\n')}\n  ${l}\n}\n`) },
  { weight: 1, arbitrary: deep },
);

const fragments = ['(', ')', '{', '}', ',', '->', '\n', '\r\n', '/*', '"', '\u0000', '\u001b[2J', '\uFEFF', 'x', '..', 'repeat 100000 {', '1e999', ' '];

/** A program with a few characters deleted, inserted and replaced. */
export const mutatedProgram: fc.Arbitrary<string> = fc
  .tuple(program, fc.array(fc.record({ at: fc.nat(), remove: fc.integer({ min: 0, max: 6 }), insert: fc.constantFrom('', ...fragments) }), { minLength: 1, maxLength: 5 }))
  .map(([text, edits]) => {
    let out = text;
    for (const e of edits) {
      const at = e.at % (out.length + 1);
      out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
    }
    return out;
  });
