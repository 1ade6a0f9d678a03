// Turns one IR program into the plain data the wasm runtime runs (runtime/wasm/plan.ts): the same
// fusion groups as WebGPU (without its binding limit, direct convolution gradients), the same
// memory plan, one module with every address folded in, and where each leaf, output and update
// lives. `--backend wasm` plans in process; `cnnc build` writes the plans into the bundle.

import { sizeOf } from '../ir/ops.ts';
import { leavesOf, type IrProgram } from '../ir/program.ts';
import { groupBindings, groupProgram } from '../passes/fuse.ts';
import { planMemory, type MemoryPlan } from '../passes/plan.ts';
import { SOFTWARE_TILING } from '../codegen/wgsl/tiled.ts';
import { compileWasm } from '../codegen/wasm/program.ts';
import type { WasmPlan, WasmRegion, WasmStepPlan } from '../../runtime/wasm/plan.ts';

export interface WasmPlanOptions {
  /** The most threads the program may run on (its memory holds a scratch area per thread). */
  readonly maxThreads: number;
  /** Off: one kernel per IR op (tests compare fused against unfused). */
  readonly fuse?: boolean;
}

export interface PlannedWasm {
  readonly plan: WasmPlan & { readonly module: Uint8Array<ArrayBuffer> };
  readonly memory: MemoryPlan;
}

export function planWasm(program: IrProgram, options: WasmPlanOptions): PlannedWasm {
  const groups = groupProgram(program, { maxStorageBuffers: Infinity, tiling: SOFTWARE_TILING, convGrad: 'direct', fuse: options.fuse });
  const kernels = groups.groups.map(groupBindings);
  const memory = planMemory({ program, kernels, values: groups.values, storageOf: groups.storageOf });
  const compiled = compileWasm(groups, memory, program.nodes, { maxThreads: options.maxThreads, shared: true });
  const region = (value: number): WasmRegion => ({ at: compiled.addressOf(value), length: sizeOf(groups.values[groups.storageOf(value)]!.shape) });
  const steps = compiled.steps.map((s): WasmStepPlan => {
    if (s.kind === 'wasm') return s;
    const a = s.group.anchor;
    return {
      kind: 'host',
      label: s.label,
      anchor: { attrs: a.attrs, shapes: a.shapes, shape: a.shape },
      inputs: a.inputs.map(region),
      out: { at: s.dest, length: sizeOf(a.shape) },
      ...(s.then ? { then: s.then } : {}),
    };
  });
  const leaves = leavesOf(program).map((l) => ({ name: l.name, role: l.role, shape: l.shape, ...region(l.node) }));
  const plan: PlannedWasm['plan'] = {
    module: compiled.bytes,
    sharedFlagAt: compiled.sharedFlagAt,
    scratchBase: compiled.scratchBase,
    scratchBytes: compiled.scratchBytes,
    maxThreads: compiled.maxThreads,
    steps,
    leaves,
    outputs: [...program.outputs].map(([name, id]) => ({ name, ...region(id) })),
    updates: program.updates.map((u) => ({ name: u.name, from: region(u.value) })),
  };
  return { plan, memory };
}
