// The WebGPU backend for a program compiled in this process: plans it exactly as `cnnc build` plans
// a bundle's programs (fused kernels, memory slots, dispatches; compiler/emit-ts/plan-program.ts),
// puts its leaves on the device as named tensors and runs it with the bundles' runtime
// (program.ts): a whole step is one command buffer: every kernel, the update copies and the
// read-back of outputs.

import type { IrProgram } from '../../compiler/ir/program.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import type { KernelProgram } from '../../compiler/codegen/wgsl/program.ts';
import type { ConvGradForm } from '../../compiler/passes/conv-grad-plan.ts';
import type { MemoryPlan } from '../../compiler/passes/plan.ts';
import { tilingFor, type Tiling } from '../../compiler/codegen/wgsl/tiled.ts';
import { planProgram } from '../../compiler/emit-ts/plan-program.ts';
import type { Executor, Feeds, PreparedProgram, TensorStore } from '../executor.ts';
import type { GpuContext } from './device.ts';
import { PipelineCache } from './pipelines.ts';
import { checkPlanLimits, prepareGpuProgram } from './program.ts';
import { DeviceTensors, GpuRunError } from './tensors.ts';

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

export class WebGpuExecutor implements Executor {
  readonly name: string;
  private readonly cache: PipelineCache;

  constructor(private readonly gpu: GpuContext, private readonly options: WebGpuExecutorOptions = {}) {
    this.name = `webgpu (${gpu.name})`;
    this.cache = new PipelineCache(gpu.device);
  }

  async prepare(program: IrProgram): Promise<WebGpuPrepared> {
    const { device, caps } = this.gpu;
    const planned = planProgram(program, {
      prefix: 'run',
      maxStorageBuffers: Math.min(caps.maxStorageBuffersPerShaderStage, this.options.maxStorageBuffers ?? Infinity),
      tiling: this.options.tiling ?? tilingFor(caps),
      fuse: this.options.fuse ?? true,
      convGrad: this.options.convGrad,
    });
    checkPlanLimits(planned.plan, caps, this.gpu.name);
    const leaves = leavesOf(program);
    const tensors = new DeviceTensors(device, leaves.map((l) => [l.name, l.shape] as const));
    const gpuProgram = await prepareGpuProgram(device, planned.plan, (k) => planned.wgsl.get(k), tensors, this.cache).catch((error: unknown) => {
      tensors.destroy();
      throw error;
    });
    const kp = planned.kernels;
    const outputNames = [...program.outputs.keys()];
    const persistent = leaves.filter((l) => l.role !== 'feed');
    const updated = new Set(program.updates.map((u) => u.name));

    const upload = (from: Feeds, list: typeof leaves): void => {
      for (const l of list) {
        const data = from.get(l.name);
        if (data === undefined) throw new GpuRunError(`webgpu run: no value for ${l.role} '${l.name}' (shape [${l.shape.join(', ')}])`);
        tensors.write(l.name, data);
      }
    };
    const feedLeaves = leaves.filter((l) => l.role === 'feed');
    const step = (feeds: Feeds): Promise<Map<string, Float32Array>> => {
      upload(feeds, feedLeaves);
      return gpuProgram.run(outputNames);
    };
    const load = (store: TensorStore): void => upload(store, persistent);
    const save = async (store: TensorStore): Promise<void> => {
      for (const [name, data] of await tensors.read(persistent.map((l) => l.name))) store.set(name, data);
    };

    return {
      program,
      kernels: kp,
      memory: planned.memory,
      dispatches: gpuProgram.dispatches,
      pipelines: new Set(planned.wgsl.values()).size,
      async run(feeds: Feeds, store: TensorStore): Promise<Map<string, Float32Array>> {
        load(store);
        const out = await step(feeds);
        if (updated.size > 0) {
          for (const [name, data] of await tensors.read([...updated])) store.set(name, data);
        }
        return out;
      },
      load,
      step,
      save,
      async profile(repeats = 3): Promise<KernelTime[]> {
        const ms = await gpuProgram.profile(repeats);
        return kp.kernels.map((k, i) => ({ label: k.kernel.label, workgroups: k.kernel.workgroups, ms: ms[i]! }));
      },
      dispose(): void {
        gpuProgram.dispose();
        tensors.destroy();
      },
    };
  }
}
