// A bundled model on WebGPU: one buffer per tensor, shared by the training step and evaluation,
// which run on the same WebGPU runtime as `cnnc train` (runtime/webgpu/program.ts).

import { PipelineCache } from '../webgpu/pipelines.ts';
import { checkPlanLimits, prepareGpuProgram } from '../webgpu/program.ts';
import { DeviceTensors } from '../webgpu/tensors.ts';
import type { BundleEngine } from './engine.ts';
import type { BundleSpec } from './plan.ts';

/** `owned`: the model made the device, so disposing the model destroys it. */
export async function webgpuEngine(device: GPUDevice, spec: BundleSpec, owned: boolean, why: string): Promise<BundleEngine> {
  for (const plan of [spec.train, spec.eval]) checkPlanLimits(plan, device.limits, `this device (model ${spec.model})`);
  const tensors = new DeviceTensors(device, [...spec.weights, ...spec.state, ...spec.feeds].map((t) => [t.name, t.shape] as const));
  const cache = new PipelineCache(device);
  const wgsl = (kernel: string): string | undefined => (Object.hasOwn(spec.wgsl, kernel) ? spec.wgsl[kernel] : undefined);
  const [train, evaluation] = await Promise.all([prepareGpuProgram(device, spec.train, wgsl, tensors, cache), prepareGpuProgram(device, spec.eval, wgsl, tensors, cache)]);
  return {
    backend: { kind: 'webgpu', threads: 1, description: `${spec.model} runs on WebGPU (${why})` },
    dispatches: train.dispatches,
    write: (name, data) => tensors.write(name, data),
    read: (names) => tensors.read(names),
    run: (program, outputs) => (program === 'train' ? train : evaluation).run(outputs),
    dispose() {
      train.dispose();
      evaluation.dispose();
      tensors.destroy();
      if (owned) device.destroy();
    },
  };
}
