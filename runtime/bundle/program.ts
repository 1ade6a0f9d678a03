// Runs one compiled program of a bundle on a WebGPU device: creates its scratch buffers, its
// pipelines (from the bundle's WGSL, cached by text) and bind groups once, then encodes each run
// as one command buffer: every dispatch, the read-back copies and the updates of persistent
// tensors. Browser-safe: no node: imports.

import { PipelineCache } from '../webgpu/pipelines.ts';
import type { ProgramPlan } from './plan.ts';
import { UserError } from '../../grammar/user-error.ts';

const STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** Model-wide buffers of persistent tensors and feeds, by name, shared by the model's programs. */
export type TensorBuffers = ReadonlyMap<string, GPUBuffer>;

export interface PreparedPlan {
  /**
   * Encodes and submits one run; resolves to the outputs named in `read` once the device is done.
   * The caller may submit the next run before this resolves (the queue keeps the order).
   */
  run(read: readonly string[]): Promise<Map<string, Float32Array>>;
  readonly dispatches: number;
  dispose(): void;
}

export class BundleError extends UserError {
  override readonly name = 'BundleError';
}

export async function preparePlan(device: GPUDevice, plan: ProgramPlan, wgsl: Readonly<Record<string, string>>, tensors: TensorBuffers, cache: PipelineCache): Promise<PreparedPlan> {
  const owned: GPUBuffer[] = [];
  const buffers = plan.buffers.map((b, id) => {
    if (b.tensor !== undefined) {
      const shared = tensors.get(b.tensor);
      if (shared === undefined) throw new BundleError(`buffer ${id} holds '${b.tensor}', which the model does not have`);
      if (shared.size < b.bytes) throw new BundleError(`buffer for '${b.tensor}' has ${shared.size} bytes, the program needs ${b.bytes}`);
      return shared;
    }
    const made = device.createBuffer({ size: Math.max(4, b.bytes), usage: STORAGE(), label: `buffer ${id}` });
    owned.push(made);
    return made;
  });
  const pipelines = await Promise.all(
    plan.dispatches.map((d) => {
      const text = wgsl[d.kernel];
      if (text === undefined) throw new BundleError(`the bundle has no WGSL for kernel '${d.kernel}'`);
      const bindings = d.bind.map((_, i) => ({ access: i < d.reads ? ('read' as const) : ('read_write' as const) }));
      return cache.get(text, d.kernel, bindings);
    }),
  );
  device.pushErrorScope('validation');
  const groups = plan.dispatches.map((d, i) =>
    device.createBindGroup({
      label: d.kernel,
      layout: pipelines[i]!.getBindGroupLayout(0),
      entries: d.bind.map((id, binding) => ({ binding, resource: { buffer: buffers[id]! } })),
    }),
  );
  const bindError = await device.popErrorScope();
  if (bindError !== null) throw new BundleError(`bind groups: ${bindError.message}`);
  const outputs = new Map(plan.outputs.map((o) => [o.name, o]));

  const run = (read: readonly string[]): Promise<Map<string, Float32Array>> => {
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    plan.dispatches.forEach((d, i) => {
      pass.setPipeline(pipelines[i]!);
      pass.setBindGroup(0, groups[i]!);
      pass.dispatchWorkgroups(...d.groups);
    });
    pass.end();
    // Outputs are copied out before the updates overwrite anything.
    let total = 0;
    const reads = read.map((name) => {
      const o = outputs.get(name);
      if (o === undefined) throw new BundleError(`the program has no output '${name}' (it has ${[...outputs.keys()].join(', ')})`);
      const bytes = o.shape.reduce((p, s) => p * s, 1) * 4;
      const at = { name, buffer: o.buffer, offset: total, bytes };
      total += bytes;
      return at;
    });
    const staging = device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (const r of reads) encoder.copyBufferToBuffer(buffers[r.buffer]!, 0, staging, r.offset, r.bytes);
    for (const u of plan.updates) {
      const to = tensors.get(u.tensor)!;
      const from = buffers[u.from]!;
      if (from !== to) encoder.copyBufferToBuffer(from, 0, to, 0, to.size);
    }
    device.queue.submit([encoder.finish()]);
    return device.popErrorScope().then(async (error) => {
      if (error !== null) throw new BundleError(`run: ${error.message}`);
      await staging.mapAsync(GPUMapMode.READ);
      const all = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return new Map(reads.map((r) => [r.name, all.slice(r.offset / 4, (r.offset + r.bytes) / 4)]));
    });
  };

  return {
    run,
    dispatches: plan.dispatches.length,
    dispose() {
      for (const b of owned) b.destroy();
    },
  };
}
