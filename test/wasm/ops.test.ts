// Every IR op, forward and backward, on the wasm back end against the CPU reference within 1e-5
// relative: each case unfused (one kernel per op), fused (a relu epilogue on every output) and
// fused over two threads sharing one memory.

import { afterAll, describe, it } from 'vitest';
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
