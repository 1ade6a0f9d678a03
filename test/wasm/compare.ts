// Runs an IR program on the wasm back end and on the CPU reference and compares every output and
// update (the error relative to each tensor's scale, as for WebGPU).

import { expect } from 'vitest';
import type { IrProgram } from '../../compiler/ir/program.ts';
import type { TensorStore } from '../../runtime/executor.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { WasmExecutor, type WasmExecutorOptions, type WasmPrepared } from '../../runtime/wasm/executor.ts';
import type { WorkerPool } from '../../runtime/wasm/workers.ts';
import { randomInputs, relativeError, type Inputs } from '../gpu/compare.ts';

export const copyStore = (s: TensorStore): TensorStore => new Map([...s].map(([k, v]) => [k, v.slice()]));

export async function expectWasmMatchesCpu(program: IrProgram, tolerance = 1e-5, inputs: Inputs = randomInputs(program), pool?: WorkerPool, options: WasmExecutorOptions = {}): Promise<WasmPrepared> {
  const cpuStore = copyStore(inputs.store);
  const wasmStore = copyStore(inputs.store);
  const cpu = await (await cpuExecutor.prepare(program)).run(inputs.feeds, cpuStore);
  const prepared = await new WasmExecutor(pool, options).prepare(program);
  try {
    const got = await prepared.run(inputs.feeds, wasmStore);
    for (const [name, want] of cpu) {
      const have = got.get(name);
      expect(have, `output ${name}`).toBeDefined();
      expect(have!.length, `output ${name} length`).toBe(want.length);
      expect(relativeError(have!, want), `output ${name}`).toBeLessThanOrEqual(tolerance);
    }
    for (const u of program.updates) {
      expect(relativeError(wasmStore.get(u.name)!, cpuStore.get(u.name)!), `update ${u.name}`).toBeLessThanOrEqual(tolerance);
    }
  } finally {
    prepared.dispose();
  }
  return prepared;
}
