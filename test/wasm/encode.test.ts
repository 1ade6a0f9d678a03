// The binary writer and the GEMM microkernels alone: modules validate, and products of ragged
// sizes (rows and columns that are not multiples of the 4x8 register block, transposed A,
// accumulation) equal a plain triple loop.

import { describe, expect, it } from 'vitest';
import { Body, ModuleWriter } from '../../compiler/codegen/wasm/encode.ts';
import { gemmBody } from '../../compiler/codegen/wasm/gemm.ts';
import { randomArray } from '../gpu/compare.ts';

describe('wasm GEMM microkernels', () => {
  for (const [m, n, k, transA, accumulate] of [[6, 25, 13, false, false], [9, 37, 5, true, true], [16, 64, 150, false, false], [1, 3, 1, false, true]] as const) {
    it(`${m}x${n}x${k}${transA ? ', A transposed' : ''}${accumulate ? ', accumulating' : ''}`, () => {
      const w = new ModuleWriter(false);
      w.add(gemmBody({ m, n, k, aRow: transA ? 4 : k * 4, aCol: transA ? m * 4 : 4, bRow: n * 4, cRow: n * 4, accumulate }), 'gemm');
      const bytes = w.bytes(1);
      expect(WebAssembly.validate(bytes)).toBe(true);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
      const gemm = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.gemm as (a: number, b: number, c: number) => void;
      const heap = new Float32Array(memory.buffer);
      const [A, B, C] = [0, 4096, 14336];
      heap.set(randomArray(m * k, 1), A);
      heap.set(randomArray(k * n, 2), B);
      heap.set(randomArray(m * n, 3), C);
      const before = heap.slice(C, C + m * n);
      gemm(A * 4, B * 4, C * 4);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let want = accumulate ? before[i * n + j]! : 0;
          for (let q = 0; q < k; q++) want += heap[A + (transA ? q * m + i : i * k + q)]! * heap[B + q * n + j]!;
          expect(heap[C + i * n + j]).toBeCloseTo(want, 4);
        }
      }
    });
  }
});

describe('wasm module writer', () => {
  it('writes a module of a few megabytes (a large model compiles into one like it)', () => {
    const w = new ModuleWriter(false);
    for (let f = 0; f < 4; f++) {
      const body = new Body([], ['i32']);
      for (let i = 0; i < 150_000; i++) body.i32(i).drop();
      w.add(body.i32(f), `f${f}`);
    }
    const bytes = w.bytes(1);
    expect(bytes.length).toBeGreaterThan(2_000_000);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }) } }).exports;
    expect((exports.f3 as () => number)()).toBe(3);
  });
});
