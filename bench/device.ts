// One WebGPU device for the whole bench: cnnc and the TensorFlow.js peer run on the same
// GPUDevice, the one cnnc's runtime acquires for itself, so their figures are comparable (on
// software devices only ratios mean anything).

import { create } from 'webgpu';
import { acquireDevice, type DawnBackend, type GpuContext } from '../runtime/webgpu/device.ts';

export type { DawnBackend };

export interface BenchDevice {
  /** cnnc's device context (limits, feature level); `release()` is left to process exit. */
  readonly context: GpuContext;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly backend: DawnBackend;
  /**
   * A Dawn GPU object for `navigator.gpu`: tfjs-backend-webgpu only checks that it exists (the
   * peer hands tfjs `device` itself). Keeping it keeps Dawn, and Node, alive.
   */
  readonly gpu: GPU;
  /** Human-readable name for the JSON lines, e.g. `SwiftShader driver 5.0.0 (vulkan, core)`. */
  readonly name: string;
}

export async function acquireBenchDevice(backend: DawnBackend = 'vulkan'): Promise<BenchDevice> {
  const context = await acquireDevice({ backend });
  context.device.addEventListener('uncapturederror', (event) => {
    process.stderr.write(`bench: WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}\n`);
  });
  return {
    context,
    adapter: context.adapter,
    device: context.device,
    backend,
    gpu: create([`backend=${backend}`]),
    name: context.name,
  };
}
