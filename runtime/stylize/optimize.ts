// The style-transfer loop: computes what does not change (the content and style images' features)
// once, then repeatedly evaluates J and dJ/d(input) for the current pixels on a backend and takes
// an Adam step on the pixels, clipped to [0, 255]. Deterministic: same inputs, same pixels.

import { gradOutput, groupOutput, LOSS_GROUPS, OBJECTIVE_LOSS, type InputObjective, type LossGroup } from '../../compiler/lower/input-objective.ts';
import { hoistInvariants } from '../../compiler/ir/hoist.ts';
import { repeatedRunner, type Executor, type Feeds, type TensorStore } from '../executor.ts';
import { BoxedAdam } from './adam.ts';
import { encodePixels, gradToPixels, PIXEL_MAX, type ChannelAffine } from './pixels.ts';
import { UserError } from '../../grammar/user-error.ts';

export interface StepReport {
  /** Updates done so far (0 before the first). */
  readonly step: number;
  readonly steps: number;
  /** J and its groups for the pixels as they are before this step's update. */
  readonly loss: number;
  readonly parts: ReadonlyMap<LossGroup, number>;
  /** The current pixels (CHW, 0..255); valid during the callback only. */
  readonly pixels: Float32Array;
}

export interface OptimizeOptions {
  readonly steps: number;
  readonly lr: number;
  readonly encoding: ChannelAffine;
  /** Called before each update and once after the last (step === steps). */
  readonly onStep?: (report: StepReport) => void | Promise<void>;
}

export class NonFiniteLossError extends UserError {
  override readonly name = 'NonFiniteLossError';
}

/**
 * Optimises `start` (pixels of the trainable input, CHW 0..255; updated in place and returned).
 * `fixed` holds every other feed, already encoded as the model reads it; `store` the weights.
 */
export async function optimizeInput(objective: InputObjective, executor: Executor, store: TensorStore, fixed: Feeds, start: Float32Array, options: OptimizeOptions): Promise<Float32Array> {
  const input = objective.input;
  const channels = input.shape[1]!;
  const { once, each } = hoistInvariants(objective.program, new Set([input.name]));
  const feeds = new Map<string, Float32Array>();
  if (once.outputs.size > 0) {
    const prepared = await executor.prepare(once);
    try {
      for (const [name, value] of await prepared.run(fixed, store)) feeds.set(name, value);
    } finally {
      prepared.dispose();
    }
  }
  const prepared = await executor.prepare(each);
  try {
    const run = repeatedRunner(prepared, store);
    const adam = new BoxedAdam(start.length, { lr: options.lr, min: 0, max: PIXEL_MAX });
    const pixels = start;
    for (let step = 0; step <= options.steps; step++) {
      feeds.set(input.name, encodePixels(pixels, channels, options.encoding));
      const out = await run(feeds);
      const loss = out.get(OBJECTIVE_LOSS)![0]!;
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(`J became ${loss} at step ${step}: lower --lr or check the weights`);
      const parts = new Map<LossGroup, number>();
      for (const g of LOSS_GROUPS) {
        const v = out.get(groupOutput(g));
        if (v) parts.set(g, v[0]!);
      }
      await options.onStep?.({ step, steps: options.steps, loss, parts, pixels });
      if (step < options.steps) adam.step(pixels, gradToPixels(out.get(gradOutput(input.name))!, channels, options.encoding));
    }
    return pixels;
  } finally {
    prepared.dispose();
  }
}
