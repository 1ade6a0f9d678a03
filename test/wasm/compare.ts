// Runs an IR program on the wasm back end and on the CPU reference and compares every output and
// update (the error relative to each tensor's scale, as for WebGPU).

import type { IrProgram } from '../../compiler/ir/program.ts';
import { WasmExecutor, type WasmExecutorOptions, type WasmPrepared } from '../../runtime/wasm/executor.ts';
import type { WorkerPool } from '../../runtime/wasm/workers.ts';
import { expectPreparedMatchesCpu, randomInputs, type Inputs } from '../gpu/compare.ts';

export { copyStore } from '../gpu/compare.ts';

export async function expectWasmMatchesCpu(program: IrProgram, tolerance = 1e-5, inputs: Inputs = randomInputs(program), pool?: WorkerPool, options: WasmExecutorOptions = {}): Promise<WasmPrepared> {
  return expectPreparedMatchesCpu(await new WasmExecutor(pool, options).prepare(program), tolerance, inputs);
}
