// Page side of the multi-input bundle test: creates the generated model with no device, so it
// takes the page's WebGPU adapter itself, loads the weights Node sent, runs training steps on
// named feeds and returns the losses and the back end it chose.

import type { BundledModel } from '../../../runtime/bundle/index.ts';
import { trainSteps, type CreateModel, type StepArgs } from './train-steps.ts';

export type FeedStepArgs = StepArgs;

export interface FeedStepReport {
  readonly losses: readonly number[];
  readonly adapter: string;
  readonly backend: BundledModel['backend'];
}

export async function runFeedSteps(createModel: CreateModel, args: FeedStepArgs): Promise<FeedStepReport> {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null');
  const model = await createModel();
  try {
    const losses = await trainSteps(model, args);
    return { losses, adapter: `${adapter.info.vendor} ${adapter.info.architecture}`.trim(), backend: model.backend };
  } finally {
    model.dispose();
  }
}
