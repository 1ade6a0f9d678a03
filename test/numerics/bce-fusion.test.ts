// binary_cross_entropy after a sigmoid is lowered in its logits form, so a saturated sigmoid
// (logit 20, target 1) gives PyTorch's 2e-9 and finite gradients instead of NaN; where the
// probabilities come from elsewhere the logarithms are clamped (issue 13). CPU reference executor;
// test/gpu/bce-fusion.test.ts runs the same case on WebGPU.

import { describe, expect, it } from 'vitest';
import { runProgram } from '../../runtime/reference/executor.ts';
import { bceRun, MODELS, REFERENCE } from './bce-case.ts';

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-6);

describe('sigmoid + binary cross-entropy', () => {
  it('matches PyTorch in float64 on saturated logits, loss and gradients', () => {
    const { program, feeds, store } = bceRun(MODELS.sigmoid);
    const out = runProgram(program, feeds, store);
    expect(rel(out.get('loss')![0]!, REFERENCE.loss)).toBeLessThan(1e-5);
    expect(rel(out.get('dense_1.weight')![0]!, REFERENCE.gradWeight[0]!)).toBeLessThan(1e-4);
    expect(rel(out.get('dense_1.bias')![0]!, REFERENCE.gradBias[0]!)).toBeLessThan(1e-3);
  });
  it('a single saturated example: 2e-9, not NaN', () => {
    const { program, feeds, store } = bceRun(MODELS.sigmoid, [20], [1]);
    const out = runProgram(program, feeds, store);
    expect(out.get('loss')![0]).toBeCloseTo(2.0611536900435727e-9, 15);
    expect(Number.isFinite(out.get('dense_1.weight')![0])).toBe(true);
  });
  it('probabilities that do not come from a sigmoid are clamped: large and finite', () => {
    // relu(-3) = 0 with target 1: log(0) would be -Infinity; relu(40) = 40 > 1 with target 0 too.
    const { program, feeds, store } = bceRun(MODELS.clamped, [-3, 0.5], [1, 0]);
    const out = runProgram(program, feeds, store);
    for (const v of out.values()) for (const x of v) expect(Number.isNaN(x)).toBe(false);
    expect(out.get('loss')![0]).toBeGreaterThan(5);
  });
});
