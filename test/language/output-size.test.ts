// The output-size rule and its padding and rounding conventions, checked against the formulas
// PyTorch (floor and ceil_mode) and TensorFlow (`same`) document.

import { describe, expect, it } from 'vitest';
import { applyRule, samePadding } from '../../compiler/checker/output-size.ts';
import { compileModel } from '../../compiler/program.ts';

/** torch.nn.MaxPool2d's documented output size, ceil_mode included. */
function torchPoolOut(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const raw = (n + 2 * p - k) / s;
  let out = (ceil ? Math.ceil(raw) : Math.floor(raw)) + 1;
  if (ceil && (out - 1) * s >= n + p) out--;
  return out;
}

describe('applyRule', () => {
  it('matches PyTorch for floor and ceil over a grid of sizes', () => {
    for (let n = 1; n <= 40; n++) {
      for (const k of [1, 2, 3, 5, 7]) {
        for (const s of [1, 2, 3]) {
          for (const p of [0, 1, 2]) {
            if (p > k / 2 || n + 2 * p < k) continue;
            for (const ceil of [false, true]) {
              expect(applyRule({ n, f: k, s, padBefore: p, padAfter: p }, ceil).out, `n=${n} k=${k} s=${s} p=${p} ceil=${ceil}`).toBe(torchPoolOut(n, k, s, p, ceil));
            }
          }
        }
      }
    }
  });

  it('shows its arithmetic', () => {
    expect(applyRule({ n: 6, f: 5, s: 2, padBefore: 0, padAfter: 0 }).arithmetic).toBe('(6 + 2*0 - 5)/2 + 1 = 1.5');
    expect(applyRule({ n: 6, f: 3, s: 1, padBefore: 1, padAfter: 1 }).arithmetic).toBe('6 + 2*1 - 3 + 1 = 6');
  });
});

describe('same padding', () => {
  it('gives ceil(n / s) with the odd pixel after, as TensorFlow does', () => {
    for (let n = 1; n <= 30; n++) {
      for (const f of [1, 2, 3, 4, 5, 7]) {
        for (const s of [1, 2, 3]) {
          const { before, after } = samePadding(n, f, s);
          expect(after - before).toBeGreaterThanOrEqual(0);
          expect(after - before).toBeLessThanOrEqual(1);
          expect(applyRule({ n, f, s, padBefore: before, padAfter: after }).out).toBe(Math.ceil(n / s));
        }
      }
    }
    expect(samePadding(28, 5, 1)).toEqual({ before: 2, after: 2 });
    expect(samePadding(56, 3, 2)).toEqual({ before: 0, after: 1 });
  });
});

describe('GoogLeNet needs ceil mode', () => {
  it('112 -> 56 -> 28 -> 14 -> 7 with round ceil, and 55 without', () => {
    const text = `model G {\n  input x: 112 x 112 x 8\n  maxpool 3x3, stride 2, round ceil\n  maxpool 3x3, stride 2, round ceil\n  maxpool 3x3, stride 2, round ceil\n  maxpool 3x3, stride 2, round ceil\n}\nmodel F {\n  input x: 112 x 112 x 8\n  maxpool 3x3, stride 2, round floor\n}\n`;
    const g = compileModel({ file: '/v/g.cnn', text, model: 'G', readText: () => undefined });
    expect(g.graph!.layers.map((l) => l.shape[0])).toEqual([56, 28, 14, 7]);
    const f = compileModel({ file: '/v/g.cnn', text, model: 'F', readText: () => undefined });
    expect(f.graph!.layers[0].shape[0]).toBe(55);
  });
});
