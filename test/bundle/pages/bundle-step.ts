// Page side of the browser bundle test: creates the generated model on the page's own WebGPU
// device (navigator.gpu, default limits: bundles need nothing more), loads the weights Node sent,
// runs training steps and returns their losses.

import type { BundledModel, ModelOptions } from '../../../runtime/bundle/index.ts';

export interface BundleStepArgs {
  readonly weights: Readonly<Record<string, readonly number[]>>;
  readonly batches: readonly { readonly images: readonly number[]; readonly labels: readonly number[] }[];
}

export interface BundleStepReport {
  readonly losses: readonly number[];
  readonly adapter: string;
  readonly ms: number;
}

export async function runBundleSteps(createModel: (device: GPUDevice, options?: ModelOptions) => Promise<BundledModel>, args: BundleStepArgs): Promise<BundleStepReport> {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null');
  const device = await adapter.requestDevice();
  const model = await createModel(device);
  try {
    model.setWeights(new Map(Object.entries(args.weights).map(([k, v]) => [k, Float32Array.from(v)])));
    const t0 = performance.now();
    const losses: number[] = [];
    for (const b of args.batches) losses.push(await model.trainStep({ images: Float32Array.from(b.images), labels: b.labels }));
    return { losses, adapter: `${adapter.info.vendor} ${adapter.info.architecture}`.trim(), ms: performance.now() - t0 };
  } finally {
    model.dispose();
    device.destroy();
  }
}
