// Runs one planned program on a WebGPU device, the same way for a model compiled in this process
// (the Node executor) and for one shipped in a bundle: creates its scratch buffers, its pipelines
// (cached by WGSL text) and bind groups once, then encodes each run as one command buffer: every
// dispatch, the read-back copies of the outputs asked for and the updates of persistent tensors.
// Browser-safe: no node: imports.

import type { ProgramPlan } from './plan.ts';
import type { PipelineCache } from './pipelines.ts';
import { stageReads } from './read-back.ts';
import { elementCount } from '../tensor.ts';
import { GpuRunError, type DeviceTensors } from './tensors.ts';
import { UserError } from '../../grammar/user-error.ts';

export class DeviceLimitError extends UserError {
  override readonly name = 'DeviceLimitError';
}

/** The device limits a plan must fit (a DeviceCaps or a device's GPUSupportedLimits). */
export type PlanLimits = Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize' | 'maxStorageBuffersPerShaderStage' | 'maxComputeWorkgroupsPerDimension'>;

export interface GpuProgram {
  readonly dispatches: number;
  /**
   * Encodes and submits one run; resolves to the outputs named in `read` once the device is done.
   * The caller may submit the next run before this resolves (the queue keeps the order).
   */
  run(read: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Milliseconds of each dispatch run alone on the buffers as they are (best of `repeats` after a warm-up). */
  profile(repeats: number): Promise<number[]>;
  /** Frees the program's scratch buffers (the named tensors belong to their owner). */
  dispose(): void;
}

/**
 * Fails with a DeviceLimitError naming the tensor or kernel when `plan` does not fit the device
 * `deviceName`: checked before any buffer is made, so an oversized model fails fast and clearly.
 */
export function checkPlanLimits(plan: ProgramPlan, limits: PlanLimits, deviceName: string): void {
  // Named tensors first: the one a user can act on (the input, a weight) rather than a slot holding it downstream.
  const order = plan.buffers.map((b, id) => ({ b, id })).sort((x, y) => Number(x.b.tensor === undefined) - Number(y.b.tensor === undefined));
  for (const { b, id } of order) {
    const what = b.tensor === undefined ? `scratch buffer ${id}` : `'${b.tensor}'`;
    if (b.bytes > limits.maxStorageBufferBindingSize) {
      throw new DeviceLimitError(`model does not fit ${deviceName}: ${what} takes ${b.bytes} bytes, over maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}; use a smaller batch`);
    }
    if (b.bytes > limits.maxBufferSize) throw new DeviceLimitError(`model does not fit ${deviceName}: ${what} takes ${b.bytes} bytes, over maxBufferSize ${limits.maxBufferSize}; use a smaller batch`);
  }
  for (const d of plan.dispatches) {
    if (d.bind.length > limits.maxStorageBuffersPerShaderStage) {
      throw new DeviceLimitError(`kernel ${d.kernel} binds ${d.bind.length} storage buffers; ${deviceName} allows ${limits.maxStorageBuffersPerShaderStage} per stage`);
    }
    const most = Math.max(...d.groups);
    if (most > limits.maxComputeWorkgroupsPerDimension) throw new DeviceLimitError(`kernel ${d.kernel} needs ${most} workgroups in one dimension; ${deviceName} allows ${limits.maxComputeWorkgroupsPerDimension}`);
  }
}

const STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export async function prepareGpuProgram(device: GPUDevice, plan: ProgramPlan, wgsl: (kernel: string) => string | undefined, tensors: DeviceTensors, cache: PipelineCache): Promise<GpuProgram> {
  const owned: GPUBuffer[] = [];
  const buffers = plan.buffers.map((b, id) => {
    if (b.tensor !== undefined) {
      if (!tensors.has(b.tensor)) throw new GpuRunError(`buffer ${id} holds '${b.tensor}', which the model does not have`);
      const shared = tensors.buffer(b.tensor);
      if (shared.size < b.bytes) throw new GpuRunError(`buffer for '${b.tensor}' has ${shared.size} bytes, the program needs ${b.bytes}`);
      return shared;
    }
    const made = device.createBuffer({ size: Math.max(4, b.bytes), usage: STORAGE(), label: `buffer ${id}` });
    owned.push(made);
    return made;
  });
  const pipelines = await Promise.all(
    plan.dispatches.map((d) => {
      const text = wgsl(d.kernel);
      if (text === undefined) throw new GpuRunError(`no WGSL for kernel '${d.kernel}'`);
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
  if (bindError !== null) throw new GpuRunError(`bind groups: ${bindError.message}`);
  const outputs = new Map(plan.outputs.map((o) => [o.name, o]));

  /** Records dispatches `from` to `to` (exclusive) in one compute pass. */
  const encodeDispatches = (encoder: GPUCommandEncoder, from: number, to: number): void => {
    const pass = encoder.beginComputePass();
    for (let i = from; i < to; i++) {
      pass.setPipeline(pipelines[i]!);
      pass.setBindGroup(0, groups[i]!);
      pass.dispatchWorkgroups(...plan.dispatches[i]!.groups);
    }
    pass.end();
  };

  const run = (read: readonly string[]): Promise<Map<string, Float32Array>> => {
    const requests = read.map((name) => {
      const o = outputs.get(name);
      if (o === undefined) throw new GpuRunError(`the program has no output '${name}' (it has ${[...outputs.keys()].join(', ')})`);
      return { name, buffer: buffers[o.buffer]!, bytes: elementCount(o.shape) * 4 };
    });
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    encodeDispatches(encoder, 0, plan.dispatches.length);
    // Outputs are copied out before the updates overwrite anything.
    const readBack = stageReads(device, encoder, requests);
    for (const u of plan.updates) {
      const to = tensors.buffer(u.tensor);
      const from = buffers[u.from]!;
      if (from !== to) encoder.copyBufferToBuffer(from, 0, to, 0, tensors.bytes(u.tensor));
    }
    device.queue.submit([encoder.finish()]);
    return device.popErrorScope().then((error) => {
      if (error !== null) throw new GpuRunError(`run: ${error.message}`);
      return readBack();
    });
  };

  const timeDispatch = async (i: number, repeats: number): Promise<number> => {
    let best = Infinity;
    for (let r = 0; r <= repeats; r++) {
      const encoder = device.createCommandEncoder();
      encodeDispatches(encoder, i, i + 1);
      const t = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (r > 0) best = Math.min(best, performance.now() - t);
    }
    return best;
  };

  return {
    run,
    dispatches: plan.dispatches.length,
    async profile(repeats) {
      const times: number[] = [];
      for (let i = 0; i < plan.dispatches.length; i++) times.push(await timeDispatch(i, repeats));
      return times;
    },
    dispose() {
      for (const b of owned) b.destroy();
    },
  };
}
