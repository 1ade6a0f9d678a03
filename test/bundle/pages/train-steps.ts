// Shared by the bundle test pages: the weights and feed batches Node sends, and the training
// steps a page runs with them on a generated model.

import type { BundledModel, FeedValues, ModelOptions } from '../../../runtime/bundle/index.ts';

/** A generated module's default export, called with no device so it picks its own back end. */
export type CreateModel = (device?: GPUDevice | null, options?: ModelOptions) => Promise<BundledModel>;

export interface StepArgs {
  readonly weights: Readonly<Record<string, readonly number[]>>;
  /** Each batch: every feed by name, as plain numbers. */
  readonly batches: readonly Readonly<Record<string, readonly number[]>>[];
}

/** Loads the weights, runs one training step per batch and returns the losses. */
export async function trainSteps(model: BundledModel, args: StepArgs): Promise<number[]> {
  model.setWeights(new Map(Object.entries(args.weights).map(([k, v]) => [k, Float32Array.from(v)])));
  const losses: number[] = [];
  for (const b of args.batches) {
    const feeds: FeedValues = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Float32Array.from(v)]));
    losses.push(await model.trainStep(feeds));
  }
  return losses;
}
