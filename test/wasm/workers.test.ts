// The worker pool's job protocol with small hand-written kernels on a shared memory: programs
// attached at the same time each run their own code, a part that fails on the main thread leaves
// no worker behind on the next job, and a detached program's workers let go of it.

import { afterAll, describe, expect, it } from 'vitest';
import { Body, ModuleWriter } from '../../compiler/codegen/wasm/encode.ts';
import { MATH_FUNCTIONS } from '../../compiler/codegen/wasm/elementwise.ts';
import { WorkerPool, type PoolSession } from '../../runtime/wasm/workers.ts';

type Kernel = (lo: number, hi: number, scratch: number) => void;

/**
 * `add(lo, hi)`: f32[i] += step for i in [lo, hi), after a short spin on every thread but the
 * main one (so a worker's part ends well after the main thread's); `slow(lo, hi)`: traps when
 * lo = 0, else spins a while.
 */
function module(step: number): Uint8Array<ArrayBuffer> {
  const w = new ModuleWriter(true);
  const spin = (f: Body, times: number): void => {
    const [i, sum] = [f.local('i32'), f.local('i32')];
    f.for(i, 0, times, 1, () => {
      f.get(sum).get(i).i32Add().set(sum);
    });
    f.i32(2048).get(sum).i32Store();
  };
  const add = new Body(['i32', 'i32', 'i32']);
  const i = add.local('i32');
  add.get(add.param(0)).i32Eqz().i32Eqz().if();
  spin(add, 3_000_000);
  add.end();
  add.for(i, add.param(0), add.param(1), 1, () => {
    add.get(i).i32(4).i32Mul().get(i).i32(4).i32Mul().f32Load().f32(step).f32Add().f32Store();
  });
  w.add(add, 'add');
  const slow = new Body(['i32', 'i32', 'i32']);
  slow.get(slow.param(0)).i32Eqz().if().unreachable().end();
  spin(slow, 30_000_000);
  w.add(slow, 'slow');
  return w.bytes(1);
}

async function attach(pool: WorkerPool, step: number): Promise<{ session: PoolSession; heap: Float32Array }> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const mod = await WebAssembly.compile(module(step));
  const exports = (await WebAssembly.instantiate(mod, { env: { memory }, math: MATH_FUNCTIONS })).exports as Record<string, Kernel>;
  const session = await pool.attach(mod, memory, ['add', 'slow'], 4096, 64, exports);
  return { session, heap: new Float32Array(memory.buffer) };
}

describe('wasm worker pool', () => {
  const pool = new WorkerPool(2);
  afterAll(() => pool.close());

  it('programs attached at the same time each run their own kernels on every thread', async () => {
    const [a, b] = await Promise.all([attach(pool, 1), attach(pool, 10)]);
    for (let r = 0; r < 3; r++) {
      a.session.run('add', 64);
      b.session.run('add', 64);
    }
    expect([...a.heap.subarray(0, 64)]).toEqual(new Array(64).fill(3));
    expect([...b.heap.subarray(0, 64)]).toEqual(new Array(64).fill(30));
  });

  it('a part failing on the main thread still waits for the workers, so the next jobs run whole', async () => {
    const a = await attach(pool, 1);
    expect(() => a.session.run('slow', 2)).toThrow(/unreachable/);
    for (let r = 1; r <= 3; r++) {
      a.session.run('add', 2);
      expect([...a.heap.subarray(0, 2)]).toEqual([r, r]);
    }
  });

  it('a detached program leaves the others running', async () => {
    const [a, b] = [await attach(pool, 1), await attach(pool, 2)];
    a.session.detach();
    b.session.run('add', 8);
    expect([...b.heap.subarray(0, 8)]).toEqual(new Array(8).fill(2));
  });
});
