// Helpers for GPU tests: deterministic random tensors, single-op programs, and a comparison of
// the WebGPU executor against the CPU reference executor on the same program and inputs.

import { expect } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/build.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import type { PreparedProgram, TensorStore } from '../../runtime/executor.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import type { GpuContext } from '../../runtime/webgpu/device.ts';
import { WebGpuExecutor, type WebGpuExecutorOptions, type WebGpuPrepared } from '../../runtime/webgpu/executor.ts';

/** Uniform values in [lo, hi) from a fixed-seed LCG. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}

/** max |a - b| over max |b| (the error relative to the tensor's scale). */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? err : err / scale;
}

export interface Inputs {
  readonly feeds: Map<string, Float32Array>;
  readonly store: TensorStore;
}

/** Random values for every leaf (positive ones for leaves whose name starts with 'pos'). */
export function randomInputs(program: IrProgram, seed = 1): Inputs {
  const feeds = new Map<string, Float32Array>();
  const store: TensorStore = new Map();
  leavesOf(program).forEach((l, k) => {
    const n = sizeOf(l.shape);
    let v = l.name.startsWith('pos') ? randomArray(n, seed + k, 0.5, 2) : randomArray(n, seed + k);
    if (l.name.startsWith('label')) v = v.map((_, i) => (i * 7 + seed) % (l.shape[1] ?? 10));
    (l.role === 'feed' ? feeds : store).set(l.name, v);
  });
  return { feeds, store };
}

/** A program with every named node as an output. */
export function programOf(b: GraphBuilder, outputs: Record<string, number>): IrProgram {
  return { nodes: b.nodes, outputs: new Map(Object.entries(outputs)), updates: [] };
}

/** Runs `program` on the CPU and on `gpu` and expects every output (and update) to match. */
export async function expectMatchesCpu(gpu: GpuContext, program: IrProgram, tolerance = 1e-4, inputs = randomInputs(program), options: WebGpuExecutorOptions = {}): Promise<WebGpuPrepared> {
  return expectPreparedMatchesCpu(await new WebGpuExecutor(gpu, options).prepare(program), tolerance, inputs);
}

export const copyStore = (s: TensorStore): TensorStore => new Map([...s].map(([k, v]) => [k, v.slice()]));

/** Runs a program prepared on another backend and on the CPU reference; every output and update must match. */
export async function expectPreparedMatchesCpu<P extends PreparedProgram>(prepared: P, tolerance: number, inputs = randomInputs(prepared.program)): Promise<P> {
  const { program } = prepared;
  const cpuStore = copyStore(inputs.store);
  const otherStore = copyStore(inputs.store);
  const cpu = await (await cpuExecutor.prepare(program)).run(inputs.feeds, cpuStore);
  try {
    const got = await prepared.run(inputs.feeds, otherStore);
    for (const [name, want] of cpu) {
      const have = got.get(name);
      expect(have, `output ${name}`).toBeDefined();
      expect(have!.length, `output ${name} length`).toBe(want.length);
      expect(relativeError(have!, want), `output ${name}`).toBeLessThanOrEqual(tolerance);
    }
    for (const u of program.updates) {
      expect(relativeError(otherStore.get(u.name)!, cpuStore.get(u.name)!), `update ${u.name}`).toBeLessThanOrEqual(tolerance);
    }
  } finally {
    prepared.dispose();
  }
  return prepared;
}

export { GraphBuilder };
