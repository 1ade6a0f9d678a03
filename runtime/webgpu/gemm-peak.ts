// The rate of cnnc's own GEMM kernel on a device: an n x n x n fp32 matrix product through the
// same generator the compiler uses for matmul (register tiles per the device's tiling choice), or
// with a 1x1 tile (one output per invocation, the naive kernel) for comparison.

import { bindingDecls, type KernelBinding } from '../../compiler/codegen/wgsl/kernel.ts';
import { matmulGemm, tiledMain, tilingFor, type Tiling } from '../../compiler/codegen/wgsl/tiled.ts';
import type { DeviceCaps } from './device.ts';
import { PipelineCache } from './pipelines.ts';

export interface GemmRate {
  readonly gflopPerS: number;
  readonly n: number;
  readonly tiling: Tiling;
  /** Best of `runs` timed submissions of `perRun` products each. */
  readonly msPerProduct: number;
}

/** One output per invocation: the baseline register tiling is measured against. */
export const NAIVE_TILING: Tiling = { tm: 1, tn: 1, wgX: 8, wgY: 8 };

export function gemmKernel(n: number, tiling: Tiling): { wgsl: string; workgroups: [number, number, number]; bindings: KernelBinding[] } {
  const bindings: KernelBinding[] = [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'out', access: 'read_write' }];
  const { main, workgroups } = tiledMain(matmulGemm('a', 'b', [n, n], [n, n], false, false), tiling);
  return { wgsl: `${bindingDecls(bindings)}\n\nfn store(i: u32, v: f32) { out[i] = v; }\n\n${main}\n`, workgroups, bindings };
}

/**
 * Runs cnnc's GEMM at size n on `device` and returns its rate (one untimed warm-up, then the best
 * of `runs` timed submissions). `tiling` defaults to the device's choice.
 */
export async function measureGemmRate(
  device: GPUDevice,
  caps: Pick<DeviceCaps, 'preferRegisterTiles' | 'maxComputeInvocationsPerWorkgroup'>,
  n = 256,
  options: { readonly tiling?: Tiling; readonly runs?: number; readonly perRun?: number } = {},
): Promise<GemmRate> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`GEMM size must be a positive integer, got ${n}`);
  const tiling = options.tiling ?? tilingFor(caps);
  const runs = options.runs ?? 3;
  const perRun = options.perRun ?? 2;
  const k = gemmKernel(n, tiling);
  const pipeline = await new PipelineCache(device).get(k.wgsl, `gemm ${n}`, k.bindings);
  const bytes = n * n * 4;
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 97) / 97 - 0.5);
  const buffers = [0, 1, 2].map(() => device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
  device.queue.writeBuffer(buffers[0]!, 0, data);
  device.queue.writeBuffer(buffers[1]!, 0, data);
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const submit = async (count: number): Promise<void> => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    for (let i = 0; i < count; i++) pass.dispatchWorkgroups(...k.workgroups);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  try {
    await submit(1);
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await submit(perRun);
      best = Math.min(best, (performance.now() - t) / perRun);
    }
    return { gflopPerS: (2 * n * n * n) / (best / 1000) / 1e9, n, tiling, msPerProduct: best };
  } finally {
    for (const b of buffers) b.destroy();
  }
}
