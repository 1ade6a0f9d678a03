// Page side of the multi-input bundle test: creates the generated model with no device, so it
// takes the page's WebGPU adapter itself, loads the weights Node sent, runs training steps on
// named feeds and returns the losses and the back end it chose.

import type { BundledModel, FeedValues, ModelOptions } from '../../../runtime/bundle/index.ts';

export interface FeedStepArgs {
  readonly weights: Readonly<Record<string, readonly number[]>>;
  /** Each batch: every feed by name, as plain numbers. */
  readonly batches: readonly Readonly<Record<string, readonly number[]>>[];
}

export interface FeedStepReport {
  readonly losses: readonly number[];
  readonly adapter: string;
  readonly backend: BundledModel['backend'];
}

export async function runFeedSteps(createModel: (device?: GPUDevice | null, options?: ModelOptions) => Promise<BundledModel>, args: FeedStepArgs): Promise<FeedStepReport> {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null');
  const model = await createModel();
  try {
    model.setWeights(new Map(Object.entries(args.weights).map(([k, v]) => [k, Float32Array.from(v)])));
    const losses: number[] = [];
    for (const b of args.batches) {
      const feeds: FeedValues = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Float32Array.from(v)]));
      losses.push(await model.trainStep(feeds));
    }
    return { losses, adapter: `${adapter.info.vendor} ${adapter.info.architecture}`.trim(), backend: model.backend };
  } finally {
    model.dispose();
  }
}
