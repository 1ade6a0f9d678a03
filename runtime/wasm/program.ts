// Runs a planned wasm program (plan.ts) over one linear memory: feeds and weights written by name
// into their fixed places, kernels in order (split over a thread pool's workers where the memory
// is shared), outputs copied out, updates copied onto the persistent tensors. The one wasm runtime:
// `--backend wasm` (executor.ts) and bundles without WebGPU both run their programs here.

import { MATH_FUNCTIONS } from '../../compiler/codegen/wasm/elementwise.ts';
import { memoryPages, PAGE_BYTES } from '../../compiler/codegen/wasm/memory-pages.ts';
import { hostKernel, type HostKernel } from './host-kernels.ts';
import type { WasmCall, WasmPlan, WasmRegion, WasmStepPlan, WasmTensor } from './plan.ts';
import type { KernelPool } from './pool.ts';

export interface KernelTime {
  readonly label: string;
  readonly ms: number;
  /** Floating-point operations, for GEMM kernels. */
  readonly flops?: number;
}

export interface WasmProgramRun {
  /** Threads its kernels split over. */
  readonly threads: number;
  /** Kernels per run (one per fusion group). */
  readonly kernels: number;
  readonly leaves: readonly WasmTensor[];
  /** Writes a leaf (feed, weight, optimizer state) by name; `what` names the caller in errors. */
  write(name: string, data: ArrayLike<number>, what?: string): void;
  /** A copy of a leaf's current value. */
  read(name: string): Float32Array;
  /** Runs every kernel, returns copies of the outputs, then applies the updates. */
  run(): Map<string, Float32Array>;
  /** Where a run's time goes: each kernel timed alone on the last run's buffers, best of `repeats`. */
  profile(repeats?: number): KernelTime[];
  dispose(): void;
}

type Kernel = (lo: number, hi: number, scratch: number) => void;

/** The module's bytes, with the memory import unshared where the memory will not be. */
function moduleBytes(plan: WasmPlan, shared: boolean): Uint8Array<ArrayBuffer> {
  const bytes = typeof plan.module === 'string' ? Uint8Array.from(atob(plan.module), (c) => c.charCodeAt(0)) : new Uint8Array(plan.module);
  if (!shared) bytes[plan.sharedFlagAt] = 0x01;
  return bytes;
}

/**
 * Instantiates `plan` on a memory of its own; with a pool and more than one thread (at most the
 * pool's and the plan's) the memory is shared and kernels split.
 */
export async function prepareWasmProgram(plan: WasmPlan, pool?: KernelPool, wanted = pool?.size ?? 1): Promise<WasmProgramRun> {
  const threads = pool === undefined ? 1 : Math.max(1, Math.min(wanted, pool.size, plan.maxThreads));
  const threaded = threads > 1;
  const module = await WebAssembly.compile(moduleBytes(plan, threaded));
  const pages = memoryPages(plan.scratchBase, plan.scratchBytes, threads);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: threaded });
  const instance = await WebAssembly.instantiate(module, { env: { memory }, math: MATH_FUNCTIONS });
  const exports = instance.exports as Record<string, Kernel & ((src: number) => void)>;
  const heap = new Float32Array(memory.buffer, 0, (pages * PAGE_BYTES) / 4);
  const view = (r: WasmRegion): Float32Array => heap.subarray(r.at / 4, r.at / 4 + r.length);
  const session = threaded ? await pool!.attach(module, memory, Object.keys(exports), plan.scratchBase, plan.scratchBytes, exports, threads) : undefined;

  const hosts = new Map<WasmStepPlan, { kernel: HostKernel; inputs: Float32Array[]; out: Float32Array }>();
  for (const s of plan.steps) if (s.kind === 'host') hosts.set(s, { kernel: hostKernel(s.anchor), inputs: s.inputs.map(view), out: view(s.out) });
  const call = (c: WasmCall): void => {
    if (session && c.units > 1) session.run(c.fn, c.units);
    else exports[c.fn]!(0, c.units, plan.scratchBase);
  };
  const runStep = (s: WasmStepPlan): void => {
    if (s.kind === 'host') {
      const h = hosts.get(s)!;
      h.kernel(h.inputs, h.out);
    } else {
      call(s);
      if (s.partial) {
        const into = s.partial.into / 4;
        heap.fill(0, into, into + s.partial.bytes / 4);
        const parts = session ? Math.min(threads, s.units) : 1;
        for (let t = 0; t < parts; t++) exports[s.partial.sum]!(plan.scratchBase + t * plan.scratchBytes);
      }
    }
    if (s.then) call(s.then);
  };

  const leafByName = new Map(plan.leaves.map((l) => [l.name, l]));
  const leaf = (name: string, what: string): WasmTensor => {
    const l = leafByName.get(name);
    if (l === undefined) throw new Error(`${what}: the program has no tensor '${name}'`);
    return l;
  };
  /** Views and staging made once (the memory never grows): a run allocates only the outputs it returns. */
  const outputs = plan.outputs.map((o) => ({ name: o.name, value: view(o) }));
  const updates = plan.updates.map((u) => ({ from: view(u.from), to: view(leaf(u.name, 'wasm update')), staged: new Float32Array(u.from.length) }));
  return {
    threads,
    kernels: plan.steps.length,
    leaves: plan.leaves,
    write(name, data, what = 'wasm run') {
      const l = leaf(name, what);
      if (data.length !== l.length) throw new Error(`${what}: '${name}' has ${data.length} values, expected ${l.length} for shape [${l.shape.join(', ')}]`);
      view(l).set(data);
    },
    read: (name) => view(leaf(name, 'wasm read')).slice(),
    run() {
      for (const s of plan.steps) runStep(s);
      const out = new Map<string, Float32Array>();
      for (const o of outputs) out.set(o.name, o.value.slice());
      // Every update reads values of this run: stage them all before any is written.
      for (const u of updates) u.staged.set(u.from);
      for (const u of updates) u.to.set(u.staged);
      return out;
    },
    profile(repeats = 3) {
      return plan.steps.map((s) => {
        let best = Infinity;
        for (let r = 0; r < repeats; r++) {
          const t = performance.now();
          runStep(s);
          best = Math.min(best, performance.now() - t);
        }
        return { label: s.label, ms: best, ...(s.kind === 'wasm' && s.flops !== undefined ? { flops: s.flops } : {}) };
      });
    },
    dispose() {
      session?.detach();
    },
  };
}
