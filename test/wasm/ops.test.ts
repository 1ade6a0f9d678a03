// Every IR op, forward and backward, on the wasm back end against the CPU reference within 1e-5
// relative: each case unfused (one kernel per op), fused (a relu epilogue on every output) and
// fused over two threads sharing one memory. Softmax and its cross-entropy are generated kernels
// with the reference's float64 arithmetic, so they are checked for equality.

import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/build.ts';
import { WorkerPool } from '../../runtime/wasm/workers.ts';
import { OP_CASES } from '../support/op-cases.ts';
import { programOf } from '../gpu/compare.ts';
import { expectWasmMatchesCpu } from './compare.ts';

const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('every op on the wasm back end matches the CPU reference', () => {
  for (const [name, build] of OP_CASES) {
    it(name, async () => {
      const b = new GraphBuilder();
      const outs = build(b);
      const fused: Record<string, number> = { ...outs };
      for (const [k, v] of Object.entries(outs)) if (b.shape(v).length > 0) fused[`relu(${k})`] = b.unary('relu', v);
      await expectWasmMatchesCpu(programOf(b, outs), 1e-5, undefined, undefined, { fuse: false });
      await expectWasmMatchesCpu(programOf(b, fused));
      await expectWasmMatchesCpu(programOf(b, fused), 1e-5, undefined, pool);
    });
  }
});

// The per-channel kernels (channel-stats.ts) take two elements at a time: odd and even channel
// sizes, a kept block in the middle and at the end, and batchnorm over odd planes.
describe('per-channel reductions and batch statistics on the wasm back end', () => {
  it('mean, var and sum over every axis but one contiguous run, odd and even sizes', async () => {
    const b = new GraphBuilder();
    const x = b.leaf('x', 'feed', [3, 4, 5, 3]);
    const z = b.leaf('z', 'feed', [7, 6]);
    const outs = { m: b.reduce('mean', x, [0, 2, 3]), v: b.reduce('var', x, [0, 2, 3]), v2: b.reduce('var', x, [0, 3]), s: b.reduce('sum', z, [0]), vz: b.reduce('var', z, [1]) };
    await expectWasmMatchesCpu(programOf(b, outs));
    await expectWasmMatchesCpu(programOf(b, outs), 1e-5, undefined, pool);
  });

  it('training batchnorm and its gradients over odd planes', async () => {
    const b = new GraphBuilder();
    const [x, dy] = [b.leaf('x', 'feed', [3, 5, 3, 3]), b.leaf('dy', 'feed', [3, 5, 3, 3])];
    const g = b.leaf('g', 'param', [5]);
    const be = b.leaf('be', 'param', [5]);
    const outs = {
      y: b.add({ op: 'batchnorm_train', eps: 1e-5 }, [x, g, be], [3, 5, 3, 3]),
      dx: b.add({ op: 'batchnorm_train_grad_x', eps: 1e-5 }, [dy, x, g], [3, 5, 3, 3]),
      dg: b.add({ op: 'batchnorm_train_grad_gamma', eps: 1e-5 }, [dy, x], [5]),
    };
    await expectWasmMatchesCpu(programOf(b, outs));
    await expectWasmMatchesCpu(programOf(b, outs), 1e-5, undefined, pool);
  });
});

describe('softmax and softmax cross-entropy on the wasm back end', () => {
  it('are generated kernels (no host step) equal to the reference to the bit', async () => {
    const b = new GraphBuilder();
    const logits = b.leaf('x', 'feed', [5, 11]);
    const t = b.add({ op: 'softmax', axis: 1 }, [b.leaf('y', 'feed', [5, 11])], [5, 11]);
    const outs = {
      probabilities: b.add({ op: 'softmax', axis: 1 }, [logits], [5, 11]),
      loss: b.add({ op: 'softmax_cross_entropy' }, [logits, t], [5]),
      grad: b.add({ op: 'softmax_cross_entropy_grad' }, [b.leaf('dl', 'feed', [5]), logits, t], [5, 11]),
    };
    const prepared = await expectWasmMatchesCpu(programOf(b, outs), 0, undefined, undefined, { fuse: false });
    expect(prepared.plan.steps.map((s) => `${s.kind} ${s.label}`)).toEqual(['wasm softmax', 'wasm softmax', 'wasm softmax_cross_entropy', 'wasm softmax_cross_entropy_grad']);
  });
});
