// The WebAssembly back end: groups an IR program with the same fusion pass as WebGPU, plans its
// memory once, compiles one module with every address folded in, and runs each step over one
// linear memory: feeds copied in, kernels in order (split over worker threads where the memory
// is shared), updates copied onto the persistent tensors, outputs copied out. Parameters and
// optimizer state stay in the memory between steps (a ResidentProgram, like WebGPU's).

import type { IrProgram } from '../../compiler/ir/program.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import { groupProgram } from '../../compiler/passes/fuse.ts';
import { planMemory, type MemoryPlan } from '../../compiler/passes/plan.ts';
import { SOFTWARE_TILING } from '../../compiler/codegen/wgsl/tiled.ts';
import { compileWasm, type WasmProgram, type WasmStep } from '../../compiler/codegen/wasm/program.ts';
import { MATH_FUNCTIONS } from '../../compiler/codegen/wasm/elementwise.ts';
import type { Executor, Feeds, ResidentProgram, TensorStore } from '../executor.ts';
import { hostKernel, type HostKernel } from './host-kernels.ts';
import type { WorkerPool } from './workers.ts';

export interface WasmPrepared extends ResidentProgram {
  readonly compiled: WasmProgram;
  readonly memory: MemoryPlan;
  /** Kernels per step (one per fusion group). */
  readonly kernels: number;
  /** Where a step's time goes: each kernel timed alone on the last step's buffers, best of `repeats`. */
  profile(repeats?: number): KernelTime[];
}

export interface KernelTime {
  readonly label: string;
  readonly ms: number;
  /** Floating-point operations, for GEMM kernels. */
  readonly flops?: number;
}

export interface WasmExecutorOptions {
  /** Threads to split kernels over (default: the pool's, 1 without shared memory). */
  readonly threads?: number;
  /** Off: one kernel per IR op (tests compare fused against unfused). */
  readonly fuse?: boolean;
}

type Kernel = (lo: number, hi: number, scratch: number) => void;

export class WasmExecutor implements Executor {
  readonly name: string;

  constructor(private readonly pool: WorkerPool | undefined = undefined, private readonly options: WasmExecutorOptions = {}) {
    this.name = `wasm (${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  get threads(): number {
    return this.options.threads ?? this.pool?.size ?? 1;
  }

  async prepare(program: IrProgram): Promise<WasmPrepared> {
    const plan = groupProgram(program, { maxStorageBuffers: Infinity, tiling: SOFTWARE_TILING, convGrad: 'direct', fuse: this.options.fuse ?? true });
    const kernelsOf = plan.groups.map((g) => ({ args: [...g.bound, ...g.written, g.output], reads: g.bound.length, outputs: [...g.written, g.output] }));
    const memory = planMemory({ program, kernels: kernelsOf, values: plan.values, storageOf: plan.storageOf });
    const threads = this.pool ? this.threads : 1;
    const compiled = compileWasm(plan, memory, program.nodes, { threads, shared: this.pool !== undefined });
    const module = await WebAssembly.compile(compiled.bytes);
    const mem = new WebAssembly.Memory({ initial: compiled.memoryBytes / 65536, maximum: compiled.memoryBytes / 65536, shared: this.pool !== undefined });
    const instance = await WebAssembly.instantiate(module, { env: { memory: mem }, math: MATH_FUNCTIONS });
    const exports = instance.exports as Record<string, Kernel & ((src: number) => void)>;
    const heap = new Float32Array(mem.buffer);
    const view = (value: number): Float32Array => {
      const at = compiled.addressOf(value) / 4;
      return heap.subarray(at, at + sizeOf(plan.values[plan.storageOf(value)]!.shape));
    };
    const names = Object.keys(exports);
    const session = this.pool && this.pool.size > 1 ? await this.pool.attach(module, mem, names, compiled.scratchBase, compiled.scratchBytes, exports) : undefined;

    const hosts = new Map<WasmStep, { kernel: HostKernel; inputs: Float32Array[]; out: Float32Array }>();
    for (const s of compiled.steps) {
      if (s.kind !== 'host') continue;
      const a = s.group.anchor;
      const at = s.dest / 4;
      hosts.set(s, { kernel: hostKernel({ attrs: a.attrs, shapes: a.shapes, shape: a.shape }), inputs: a.inputs.map(view), out: heap.subarray(at, at + sizeOf(a.shape)) });
    }
    const runStep = (s: WasmStep): void => {
      if (s.kind === 'host') {
        const h = hosts.get(s)!;
        h.kernel(h.inputs, h.out);
        if (s.then) exports[s.then.fn]!(0, s.then.units, 0);
        return;
      }
      const fn = exports[s.fn]!;
      const split = session && s.units > 1 ? session : undefined;
      if (split) split.run(s.fn, s.units);
      else fn(0, s.units, compiled.scratchBase);
      if (s.partial) {
        const into = s.partial.into / 4;
        heap.fill(0, into, into + s.partial.bytes / 4);
        const parts = split ? Math.min(threads, s.units) : 1;
        for (let t = 0; t < parts; t++) exports[s.partial.sum]!(compiled.scratchBase + t * compiled.scratchBytes);
      }
      if (s.then) {
        if (split && s.then.units > 1) split.run(s.then.fn, s.then.units);
        else exports[s.then.fn]!(0, s.then.units, 0);
      }
    };

    const leaves = leavesOf(program);
    const persistent = leaves.filter((l) => l.role !== 'feed');
    const leafByName = new Map(leaves.map((l) => [l.name, l]));
    const put = (l: (typeof leaves)[number], data: Float32Array | undefined): void => {
      if (data === undefined) throw new Error(`wasm run: no value for ${l.role} '${l.name}' (shape [${l.shape.join(', ')}])`);
      if (data.length !== sizeOf(l.shape)) throw new Error(`wasm run: '${l.name}' has ${data.length} values, expected ${sizeOf(l.shape)} for shape [${l.shape.join(', ')}]`);
      view(l.node).set(data);
    };
    const load = (store: TensorStore): void => {
      for (const l of persistent) put(l, store.get(l.name));
    };
    const step = (feeds: Feeds): Promise<Map<string, Float32Array>> => {
      for (const l of leaves) if (l.role === 'feed') put(l, feeds.get(l.name));
      for (const s of compiled.steps) runStep(s);
      const out = new Map<string, Float32Array>();
      for (const [name, id] of program.outputs) out.set(name, view(id).slice());
      // Every update reads values of this step: stage them before any is written.
      const staged = program.updates.map((u) => [leafByName.get(u.name)!.node, view(u.value).slice()] as const);
      for (const [node, data] of staged) view(node).set(data);
      return Promise.resolve(out);
    };
    const save = (store: TensorStore): Promise<void> => {
      for (const l of persistent) store.set(l.name, view(l.node).slice());
      return Promise.resolve();
    };
    return {
      program,
      compiled,
      memory,
      kernels: compiled.steps.length,
      load,
      step,
      save,
      async run(feeds: Feeds, store: TensorStore): Promise<Map<string, Float32Array>> {
        load(store);
        const out = await step(feeds);
        for (const u of program.updates) store.set(u.name, view(leafByName.get(u.name)!.node).slice());
        return out;
      },
      profile(repeats = 3): KernelTime[] {
        return compiled.steps.map((s) => {
          let best = Infinity;
          for (let r = 0; r < repeats; r++) {
            const t = performance.now();
            runStep(s);
            best = Math.min(best, performance.now() - t);
          }
          return { label: s.label, ms: best, ...(s.kind === 'wasm' && s.flops !== undefined ? { flops: s.flops } : {}) };
        });
      },
      dispose(): void {
        session?.detach();
      },
    };
  }
}
