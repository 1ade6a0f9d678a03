// Backend selection: `--backend wasm` opens the wasm back end on the asked threads, and a session
// trains on it (the resident weights come back through saveState).

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { parseBackend } from '../../cli/model-input.ts';
import { createSession, pickExecutor } from '../../runtime/train/create-session.ts';
import { openWasmExecutor } from '../../runtime/wasm/select.ts';
import { randomArray } from '../gpu/compare.ts';

describe('wasm backend selection', () => {
  it('parses --backend wasm and opens the executor on the asked threads', async () => {
    expect(parseBackend('wasm')).toBe('wasm');
    const one = await openWasmExecutor(1);
    expect(one.device).toBe('wasm (1 thread)');
    one.close();
    const two = await openWasmExecutor(2);
    expect(two.device).toBe('wasm (2 threads)');
    two.close();
    const picked = await pickExecutor('wasm');
    expect(picked.executor.name).toMatch(/^wasm \(\d+ threads?\)$/);
    picked.close();
  });

  it('a training session on wasm lowers the loss and hands back its weights', async () => {
    const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const session = await createSession(graph, { batch: 8, optimizer: { kind: 'sgd', lr: 0.05 }, backend: 'wasm', seed: 1 });
    try {
      expect(session.device).toMatch(/^wasm/);
      const feeds = new Map([
        ['image', randomArray(8 * 32 * 32, 3, 0, 1)],
        ['labels', Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7])],
      ]);
      const first = (await session.trainStep(feeds)).loss;
      let last = first;
      for (let i = 0; i < 10; i++) last = (await session.trainStep(feeds)).loss;
      expect(last).toBeLessThan(first);
      const before = (await session.saveState()).weights;
      await session.trainStep(feeds);
      const after = (await session.saveState()).weights;
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      expect([...after].some(([name, v]) => v.some((x, i) => x !== before.get(name)![i]))).toBe(true);
    } finally {
      session.dispose();
    }
  });
});
