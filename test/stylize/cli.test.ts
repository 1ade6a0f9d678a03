// `cnnc stylize` end to end on a reduced-width VGG-19 with random weights: J falls, the picture is
// a PNG of the requested size, the run is deterministic for a seed, intermediate pictures appear,
// and bad input ends in one line.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { parseNumberOption, parseSize } from '../../cli/numbers.ts';
import { cnnc } from '../support/cli.ts';
import { writeRandomWeights } from '../support/random-weights.ts';
import { SIZE, STYLE_SETS, writeStyleInputs } from './pictures.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-stylize-'));
let inputs: ReturnType<typeof writeStyleInputs>;
beforeAll(() => {
  inputs = writeStyleInputs(dir);
});

const base = (out: string, extra: string[] = []): string[] => [
  'stylize', 'stdlib/style_transfer.cnn', ...STYLE_SETS.flatMap((s) => ['--set', s]), '--size', `${SIZE}x${SIZE}`,
  '--content', inputs.content, '--style', inputs.style, '--weights', inputs.weights, '-o', out, '--backend', 'cpu', ...extra,
];

/** J before the first step and after the last, from the progress lines. */
function firstAndLastJ(stderr: string): [number, number] {
  const js = [...stderr.matchAll(/^step \d+\/\d+ .* J ([-\d.e+]+) /gm)].map((m) => Number(m[1]));
  return [js[0]!, js[js.length - 1]!];
}

describe('cnnc stylize', () => {
  it('lowers J by at least half in 8 steps and writes a 64x64 PNG and intermediate pictures', () => {
    const out = join(dir, 'out.png');
    const r = cnnc(base(out, ['--steps', '8', '--save-every', '3']));
    expect(r.stderr).toMatch(/J_content [\d.]+ {2}J_style [\d.]+/);
    expect(r.code, r.stderr).toBe(0);
    // The course's defaults: Adam, lr 2, the content picture plus 20% noise, alpha 10, beta 40.
    expect(r.stderr).toMatch(/: Adam lr 2, 8 steps, init content \+ 20% noise, seed 0$/m);
    const [j, jc, js] = /^step 0\/8 .* J ([\d.e+-]+) {2}J_content ([\d.e+-]+) {2}J_style ([\d.e+-]+)/m.exec(r.stderr)!.slice(1).map(Number);
    expect(10 * jc! + 40 * js!).toBeCloseTo(j!, 2);
    const [first, last] = firstAndLastJ(r.stderr);
    expect(last).toBeLessThan(0.5 * first);
    const png = pngjs.PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([SIZE, SIZE]);
    expect(existsSync(join(dir, 'out-0003.png')) && existsSync(join(dir, 'out-0006.png'))).toBe(true);
    // Deterministic: the same seed gives the same bytes; another seed a different picture.
    const again = join(dir, 'again.png');
    expect(cnnc(base(again, ['--steps', '8'])).code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    const [seed0, seed1] = [join(dir, 'seed0.png'), join(dir, 'seed1.png')];
    expect(cnnc(base(seed0, ['--steps', '0'])).code).toBe(0);
    expect(cnnc(base(seed1, ['--steps', '0', '--seed', '1'])).code).toBe(0);
    expect(readFileSync(seed1).equals(readFileSync(seed0))).toBe(false);
  });

  it('weights J by --alpha and --beta', () => {
    const r = cnnc(base(join(dir, 'ab.png'), ['--steps', '0', '--alpha', '1', '--beta', '0', '--seed', '7']));
    expect(r.code, r.stderr).toBe(0);
    const m = /J ([\d.e+-]+) {2}J_content ([\d.e+-]+)/.exec(r.stderr)!;
    expect(Number(m[1])).toBeCloseTo(Number(m[2]), 4);
  });

  it('optimises the trainable input of any model with a loss (here content + total variation, no style)', () => {
    const file = join(dir, 'smooth.cnn');
    writeFileSync(
      file,
      ['/// A smoothed copy of a picture.', 'block tiny()(x) {', '  x -> conv 4, 3x3, pad 1 as c1 -> relu', '}', '', '/// Content plus total variation.', 'model Smooth {',
        '  input content_image: 16 x 16 x 3', '  input generated: 16 x 16 x 3 trainable', '  share f = tiny', '  a = f(content_image)', '  b = f(generated)', '  freeze f',
        '  loss content(b.c1, a.c1) + 0.001 * total_variation(generated)', '}', ''].join('\n'),
    );
    const graph = compileModel({ file }).graph!;
    const weights = join(dir, 'smooth.safetensors');
    writeRandomWeights(graph, 2, weights);
    const out = join(dir, 'smooth.png');
    const r = cnnc(['stylize', file, '--content', inputs.content, '--weights', weights, '--steps', '6', '--lr', '8', '--init', 'noise', '--backend', 'cpu', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/J_style/);
    const [first, last] = firstAndLastJ(r.stderr);
    expect(last).toBeLessThan(0.9 * first);
    expect([pngjs.PNG.sync.read(readFileSync(out)).width]).toEqual([16]);
    const sized = cnnc(['stylize', file, '--content', inputs.content, '--weights', weights, '--size', '32x32', '-o', join(dir, 'sized.png')]);
    expect([sized.code, sized.stderr.trim()]).toEqual([2, "cnnc stylize: --size sets the model's height and width parameters; model Smooth has no height or width parameter (its picture size is fixed in " + file + '; drop --size)']);
  });

  it('rejects bad options and inputs with one line', () => {
    const bad = cnnc(base(join(dir, 'bad.png'), ['--init', 'zeros']));
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(["cnnc stylize: --init expects noise or content, got 'zeros'"]);
    expect(() => parseSize('size', '64')).toThrow(/--size expects HxW with positive integers, e.g. 256x256, got '64'/);
    expect(() => parseNumberOption('lr', '0', 2, { min: 0, exclusiveMin: true })).toThrow(/--lr expects a number > 0, got '0'/);
    expect(parseSize('size', '48x64')).toEqual([48, 64]);
    const r = cnnc(['stylize', 'stdlib/lenet5.cnn', '--content', inputs.content, '--weights', inputs.weights, '-o', join(dir, 'x.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs exactly one trainable input/);
    expect(existsSync(join(dir, 'bad.png'))).toBe(false);
    // Weights of another width: every misshaped tensor is named in one line, exit 1, nothing written.
    const wide = cnnc(['stylize', 'stdlib/style_transfer.cnn', '--set', 'filters=8', '--size', `${SIZE}x${SIZE}`, '--content', inputs.content, '--style', inputs.style, '--weights', inputs.weights, '-o', join(dir, 'wide.png'), '--backend', 'cpu']);
    expect(wide.code).toBe(1);
    expect(wide.stderr.trim().split('\n').at(-1)).toMatch(/^cnnc stylize: .*weights\.safetensors does not fit model StyleTransfer: vgg\.conv1_1\.weight is \[4, 3, 3, 3\] in the file, the model expects \[8, 3, 3, 3\]; .* \(and 27 more\)$/);
    expect(existsSync(join(dir, 'wide.png'))).toBe(false);
  });
});
