// The WebAssembly back end as an Executor: plans an IR program (compiler/emit-ts/plan-wasm.ts: the
// same fusion groups and memory plan as WebGPU, one module with every address folded in) and runs
// it with the wasm runtime (program.ts), the one bundles use too. Parameters and optimizer state
// stay in the program's memory between steps (a ResidentProgram, like WebGPU's).

import type { IrProgram } from '../../compiler/ir/program.ts';
import type { MemoryPlan } from '../../compiler/passes/plan.ts';
import { planWasm } from '../../compiler/emit-ts/plan-wasm.ts';
import type { Executor, Feeds, ResidentProgram, TensorStore } from '../executor.ts';
import { prepareWasmProgram, type KernelTime } from './program.ts';
import type { WasmPlan } from './plan.ts';
import type { KernelPool } from './pool.ts';

export type { KernelTime } from './program.ts';

export interface WasmPrepared extends ResidentProgram {
  readonly plan: WasmPlan;
  readonly memory: MemoryPlan;
  /** Kernels per step (one per fusion group). */
  readonly kernels: number;
  /** Where a step's time goes: each kernel timed alone on the last step's buffers, best of `repeats`. */
  profile(repeats?: number): KernelTime[];
}

export interface WasmExecutorOptions {
  /** Threads to split kernels over (default: the pool's, 1 without shared memory). */
  readonly threads?: number;
  /** Off: one kernel per IR op (tests compare fused against unfused). */
  readonly fuse?: boolean;
}

export class WasmExecutor implements Executor {
  readonly name: string;

  constructor(private readonly pool: KernelPool | undefined = undefined, private readonly options: WasmExecutorOptions = {}) {
    this.name = `wasm (${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  get threads(): number {
    return this.options.threads ?? this.pool?.size ?? 1;
  }

  async prepare(program: IrProgram): Promise<WasmPrepared> {
    const threads = this.pool ? this.threads : 1;
    const { plan, memory } = planWasm(program, { maxThreads: threads, fuse: this.options.fuse });
    const run = await prepareWasmProgram(plan, this.pool, threads);
    const persistent = run.leaves.filter((l) => l.role !== 'feed');
    const feedLeaves = run.leaves.filter((l) => l.role === 'feed');
    const put = (name: string, role: string, shape: readonly number[], data: Float32Array | undefined): void => {
      if (data === undefined) throw new Error(`wasm run: no value for ${role} '${name}' (shape [${shape.join(', ')}])`);
      run.write(name, data);
    };
    const load = (store: TensorStore): void => {
      for (const l of persistent) put(l.name, l.role, l.shape, store.get(l.name));
    };
    const step = (feeds: Feeds): Promise<Map<string, Float32Array>> => {
      for (const l of feedLeaves) put(l.name, l.role, l.shape, feeds.get(l.name));
      return Promise.resolve(run.run());
    };
    return {
      program,
      plan,
      memory,
      kernels: run.kernels,
      load,
      step,
      save(store: TensorStore): Promise<void> {
        for (const l of persistent) store.set(l.name, run.read(l.name));
        return Promise.resolve();
      },
      async run(feeds: Feeds, store: TensorStore): Promise<Map<string, Float32Array>> {
        load(store);
        const out = await step(feeds);
        for (const u of program.updates) store.set(u.name, run.read(u.name));
        return out;
      },
      profile: (repeats) => run.profile(repeats),
      dispose: () => run.dispose(),
    };
  }
}
