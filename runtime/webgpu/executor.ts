// The WebGPU backend: compiles an IR program into fused kernels, plans its memory, creates the
// pipelines (async, cached by WGSL hash) and runs a whole step as one command buffer: upload,
// every kernel, the update copies and the read-back of outputs.

import type { IrProgram } from '../../compiler/ir/program.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import { fuseProgram, type KernelProgram } from '../../compiler/codegen/wgsl/program.ts';
import type { ConvGradForm } from '../../compiler/passes/conv-grad-plan.ts';
import { planMemory, type MemoryPlan } from '../../compiler/passes/plan.ts';
import { tilingFor, type Tiling } from '../../compiler/codegen/wgsl/tiled.ts';
import type { Executor, Feeds, PreparedProgram, TensorStore } from '../executor.ts';
import type { GpuContext } from './device.ts';
import { PipelineCache } from './pipelines.ts';
import { UserError } from '../../grammar/user-error.ts';

export class DeviceLimitError extends UserError {
  override readonly name = 'DeviceLimitError';
}

export interface WebGpuPrepared extends PreparedProgram {
  readonly kernels: KernelProgram;
  readonly memory: MemoryPlan;
  /** Compute dispatches per run. */
  readonly dispatches: number;
  /** Distinct pipelines the program uses. */
  readonly pipelines: number;
  /** Uploads the persistent tensors (parameters, state) from `store`; steps then keep them on the device. */
  load(store: TensorStore): void;
  /**
   * Submits one step (feeds uploaded, one command buffer) and returns its outputs without waiting
   * for them: the caller may submit the next step before this promise resolves.
   */
  step(feeds: Feeds): Promise<Map<string, Float32Array>>;
  /** Reads every persistent tensor back into `store` (checkpoints, the end of training). */
  save(store: TensorStore): Promise<void>;
  /**
   * Where a step's time goes: runs each kernel alone on the buffers the last step left (one
   * submission each, awaited), best of `repeats` after a warm-up.
   */
  profile(repeats?: number): Promise<KernelTime[]>;
}

export interface KernelTime {
  readonly label: string;
  readonly workgroups: readonly [number, number, number];
  readonly ms: number;
}

export interface WebGpuExecutorOptions {
  /** Off: one kernel per IR op. */
  readonly fuse?: boolean;
  /** Fewer storage buffers per kernel than the device allows (tests of kernel splitting). */
  readonly maxStorageBuffers?: number;
  /** Forces the direct or restructured convolution gradients (tests of both forms). */
  readonly convGrad?: ConvGradForm;
  /** Another device's tiling (tests run real GPUs' staged tiles on a software device). */
  readonly tiling?: Tiling;
}

const USAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export class WebGpuExecutor implements Executor {
  readonly name: string;
  private readonly cache: PipelineCache;

  constructor(private readonly gpu: GpuContext, private readonly options: WebGpuExecutorOptions = {}) {
    this.name = `webgpu (${gpu.name})`;
    this.cache = new PipelineCache(gpu.device);
  }

  async prepare(program: IrProgram): Promise<WebGpuPrepared> {
    const { device, caps } = this.gpu;
    const kp = fuseProgram(program, {
      maxStorageBuffers: Math.min(caps.maxStorageBuffersPerShaderStage, this.options.maxStorageBuffers ?? Infinity),
      tiling: this.options.tiling ?? tilingFor(caps),
      fuse: this.options.fuse ?? true,
      convGrad: this.options.convGrad,
    });
    const memory = planMemory(kp);
    checkLimits(kp, memory, this.gpu);
    const pipelines = await Promise.all(kp.kernels.map((k) => this.cache.get(k.kernel.wgsl, k.kernel.label, k.kernel.bindings)));

    const buffers = new Map<number, GPUBuffer>();
    const owned: GPUBuffer[] = [];
    const make = (bytes: number, label: string): GPUBuffer => {
      const b = device.createBuffer({ size: Math.max(4, bytes), usage: USAGE(), label });
      owned.push(b);
      return b;
    };
    const slots = memory.slotBytes.map((b, i) => make(b, `slot ${i}`));
    const bufferOf = (v: number): GPUBuffer => {
      const s = kp.storageOf(v);
      const slot = memory.slotOf.get(s);
      if (slot !== undefined) return slots[slot]!;
      let b = buffers.get(s);
      if (b === undefined) {
        b = make(sizeOf(kp.values[s]!.shape) * 4, `value ${s}`);
        buffers.set(s, b);
      }
      return b;
    };
    const leaves = leavesOf(program);
    for (const l of leaves) bufferOf(l.node);
    device.pushErrorScope('validation');
    const groups = kp.kernels.map((k, i) =>
      device.createBindGroup({
        layout: pipelines[i]!.getBindGroupLayout(0),
        entries: k.args.map((v, binding) => ({ binding, resource: { buffer: bufferOf(v) } })),
      }),
    );
    const bindError = await device.popErrorScope();
    if (bindError !== null) throw new Error(`webgpu prepare: ${bindError.message}`);
    // Read-back layouts: the outputs of a step, and the updated persistent tensors.
    type Read = { readonly key: string; readonly value: number; readonly offset: number; readonly bytes: number };
    const layout = (entries: readonly (readonly [string, number])[]): { reads: Read[]; total: number } => {
      const reads: Read[] = [];
      let total = 0;
      for (const [key, value] of entries) {
        const bytes = sizeOf(program.nodes[value]!.shape) * 4;
        reads.push({ key, value, offset: total, bytes });
        total += bytes;
      }
      return { reads, total };
    };
    const outputReads = layout([...program.outputs]);
    const persistent = leaves.filter((l) => l.role !== 'feed');
    const stateReads = layout(persistent.map((l) => [l.name, l.node] as const));
    const leafByName = new Map(leaves.map((l) => [l.name, l]));

    const upload = (l: (typeof leaves)[number], data: Float32Array | undefined): void => {
      if (data === undefined) throw new Error(`webgpu run: no value for ${l.role} '${l.name}' (shape [${l.shape.join(', ')}])`);
      if (data.length !== sizeOf(l.shape)) throw new Error(`webgpu run: '${l.name}' has ${data.length} values, expected ${sizeOf(l.shape)} for shape [${l.shape.join(', ')}]`);
      device.queue.writeBuffer(bufferOf(l.node), 0, data as Float32Array<ArrayBuffer>);
    };
    const readBack = async (staging: GPUBuffer, reads: readonly Read[]): Promise<Map<string, Float32Array>> => {
      await staging.mapAsync(GPUMapMode.READ);
      const all = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return new Map(reads.map((r) => [r.key, all.slice(r.offset / 4, (r.offset + r.bytes) / 4)]));
    };
    const copyInto = (encoder: GPUCommandEncoder, list: { reads: Read[]; total: number }): GPUBuffer => {
      const staging = device.createBuffer({ size: Math.max(4, list.total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      for (const r of list.reads) encoder.copyBufferToBuffer(bufferOf(r.value), 0, staging, r.offset, r.bytes);
      return staging;
    };
    /** Encodes and submits one step as one command buffer; returns the outputs' read-back. */
    const submitStep = (feeds: Feeds): Promise<Map<string, Float32Array>> => {
      for (const l of leaves) if (l.role === 'feed') upload(l, feeds.get(l.name));
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      kp.kernels.forEach((k, i) => {
        pass.setPipeline(pipelines[i]!);
        pass.setBindGroup(0, groups[i]!);
        const [x, y, z] = k.kernel.workgroups;
        pass.dispatchWorkgroups(x, y, z);
      });
      pass.end();
      const staging = copyInto(encoder, outputReads);
      for (const u of program.updates) {
        const src = bufferOf(u.value);
        const dst = bufferOf(leafByName.get(u.name)!.node);
        if (src !== dst) encoder.copyBufferToBuffer(src, 0, dst, 0, sizeOf(program.nodes[u.value]!.shape) * 4);
      }
      device.queue.submit([encoder.finish()]);
      const checked = device.popErrorScope().then((error) => {
        if (error !== null) throw new Error(`webgpu run: ${error.message}`);
      });
      return checked.then(() => readBack(staging, outputReads.reads));
    };
    const load = (store: TensorStore): void => {
      for (const l of persistent) upload(l, store.get(l.name));
    };
    const save = async (store: TensorStore): Promise<void> => {
      const encoder = device.createCommandEncoder();
      const staging = copyInto(encoder, stateReads);
      device.queue.submit([encoder.finish()]);
      for (const [name, data] of await readBack(staging, stateReads.reads)) store.set(name, data);
    };

    const timeKernel = async (i: number, repeats: number): Promise<number> => {
      let best = Infinity;
      for (let r = 0; r <= repeats; r++) {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipelines[i]!);
        pass.setBindGroup(0, groups[i]!);
        pass.dispatchWorkgroups(...kp.kernels[i]!.kernel.workgroups);
        pass.end();
        const t = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        if (r > 0) best = Math.min(best, performance.now() - t);
      }
      return best;
    };

    return {
      program,
      kernels: kp,
      memory,
      dispatches: kp.kernels.length,
      pipelines: new Set(kp.kernels.map((k) => k.kernel.wgsl)).size,
      async run(feeds: Feeds, store: TensorStore): Promise<Map<string, Float32Array>> {
        load(store);
        const out = await submitStep(feeds);
        if (program.updates.length > 0) {
          const updated = new Set(program.updates.map((u) => u.name));
          const all = new Map<string, Float32Array>();
          await save(all);
          for (const [name, data] of all) if (updated.has(name)) store.set(name, data);
        }
        return out;
      },
      load,
      step: submitStep,
      save,
      async profile(repeats = 3): Promise<KernelTime[]> {
        const times: KernelTime[] = [];
        for (let i = 0; i < kp.kernels.length; i++) {
          const k = kp.kernels[i]!.kernel;
          times.push({ label: k.label, workgroups: k.workgroups, ms: await timeKernel(i, repeats) });
        }
        return times;
      },
      dispose(): void {
        for (const b of owned) b.destroy();
      },
    };
  }
}

/** Fails with a clear message when a tensor or a kernel does not fit the device's limits. */
function checkLimits(kp: KernelProgram, memory: MemoryPlan, gpu: GpuContext): void {
  const { caps } = gpu;
  for (const v of kp.values) {
    const bytes = sizeOf(v.shape) * 4;
    if (bytes > caps.maxStorageBufferBindingSize) {
      const node = kp.program.nodes[v.id];
      const what = node === undefined ? 'a scratch tensor' : node.attrs.op === 'leaf' ? `'${node.attrs.name}'` : `the output of ${node.attrs.op} (node ${v.id})`;
      throw new DeviceLimitError(
        `model does not fit ${gpu.name}: ${what} of shape [${v.shape.join(', ')}] takes ${bytes} bytes, ` +
          `over maxStorageBufferBindingSize ${caps.maxStorageBufferBindingSize}; use a smaller batch`,
      );
    }
  }
  for (const b of memory.slotBytes) {
    if (b > caps.maxBufferSize) throw new DeviceLimitError(`model does not fit ${gpu.name}: a buffer of ${b} bytes is over maxBufferSize ${caps.maxBufferSize}`);
  }
  for (const k of kp.kernels) {
    if (k.args.length > caps.maxStorageBuffersPerShaderStage) {
      throw new DeviceLimitError(`kernel ${k.kernel.label} binds ${k.args.length} storage buffers; ${gpu.name} allows ${caps.maxStorageBuffersPerShaderStage} per stage`);
    }
    const [x, y, z] = k.kernel.workgroups;
    if (Math.max(x, y, z) > caps.maxComputeWorkgroupsPerDimension) {
      throw new DeviceLimitError(`kernel ${k.kernel.label} needs ${Math.max(x, y, z)} workgroups in one dimension; ${gpu.name} allows ${caps.maxComputeWorkgroupsPerDimension}`);
    }
  }
}
