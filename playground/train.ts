// The Train button: compiles the selected model into a training session (WebGPU when the page has
// an adapter, else the wasm back end) and trains it on the bundled Fashion-MNIST, calling
// back after each step, with held-out accuracy every few steps and a confusion matrix at the end.

import type { ModelGraph } from '../compiler/graph.ts';
import { createSession } from '../runtime/train/create-session.ts';
import { argmax } from '../runtime/train/argmax.ts';
import { imageBatch, TRAIN_COUNT, type Fashion } from './fashion.ts';
import { UserError } from '../grammar/user-error.ts';

export class PlaygroundError extends UserError {
  override readonly name = 'PlaygroundError';
}

/** What the page can train on: WebGPU, the wasm back end (SIMD kernels), the CPU reference executor. */
export const PAGE_BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

export interface TrainOptions {
  readonly steps: number;
  readonly batch: number;
  readonly backend: PageBackend;
  /** Held-out accuracy every this many steps. */
  readonly evalEvery: number;
  readonly onStart: (device: string) => void;
  readonly onStep: (step: number, loss: number, accuracy: number | undefined) => void;
  /** Stop early when this returns true (the page's Stop button). */
  readonly stopped: () => boolean;
}

/** confusion[truth][predicted], counts over the held-out examples. */
export type Confusion = number[][];

/** The input side (28 or 32) when the model reads one 28x28x1 or 32x32x1 image and predicts 10 classes. */
export function fashionSide(graph: ModelGraph): number {
  const inputs = graph.inputs.filter((i) => !i.trainable);
  const shape = inputs[0]?.shape ?? [];
  const fits = inputs.length === 1 && shape.length === 3 && shape[0] === shape[1] && (shape[0] === 28 || shape[0] === 32) && shape[2] === 1;
  if (!fits) throw new PlaygroundError(`Fashion-MNIST is 28 x 28 x 1 (or padded to 32 x 32 x 1); model ${graph.name} reads ${inputs.map((i) => i.shape.join(' x ')).join(', ') || 'no input'}`);
  const ce = graph.loss.find((t) => t.fn === 'cross_entropy');
  const out = graph.layers.find((l) => l.name === ce?.args[0]);
  if (!ce || out?.shape.join() !== '10') throw new PlaygroundError(`training here needs a cross_entropy loss over 10 classes; model ${graph.name} has ${graph.loss.map((t) => t.fn).join(', ') || 'no loss'}`);
  return shape[0]!;
}

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export async function trainFashion(graph: ModelGraph, data: Fashion, options: TrainOptions): Promise<Confusion> {
  const side = fashionSide(graph);
  const input = graph.inputs.find((i) => !i.trainable)!.name;
  const session = await createSession(graph, { batch: options.batch, optimizer: { kind: 'adam', lr: 0.002 }, backend: options.backend, seed: 0 });
  try {
    options.onStart(session.device);
    const output = session.outputs[0]!;
    const feeds = (indices: readonly number[]) =>
      new Map([
        [input, imageBatch(data, indices, side)],
        ['labels', Float32Array.from(indices, (i) => data.labels[i]!)],
      ]);
    const heldOut = Array.from({ length: Math.min(256, data.count - TRAIN_COUNT) }, (_, i) => TRAIN_COUNT + i);
    const predicted = async (indices: readonly number[]): Promise<number[]> => {
      const probabilities = (await session.predict(feeds(indices), indices.length)).get(output)!;
      return indices.map((_, n) => argmax(probabilities.subarray(n * 10, (n + 1) * 10)));
    };
    const accuracy = async (): Promise<number> => {
      const p = await predicted(heldOut);
      return p.filter((c, n) => c === data.labels[heldOut[n]!]).length / heldOut.length;
    };
    const order = shuffled(TRAIN_COUNT, 1);
    for (let step = 1; step <= options.steps && !options.stopped(); step++) {
      const start = ((step - 1) * options.batch) % (TRAIN_COUNT - options.batch);
      const { loss } = await session.trainStep(feeds(order.slice(start, start + options.batch)));
      if (!Number.isFinite(loss)) throw new PlaygroundError(`the loss became ${loss} at step ${step}; lower the learning rate or check the model`);
      options.onStep(step, loss, step % options.evalEvery === 0 || step === options.steps ? await accuracy() : undefined);
    }
    const confusion: Confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    const p = await predicted(heldOut);
    p.forEach((c, n) => confusion[data.labels[heldOut[n]!]!]![c]!++);
    return confusion;
  } finally {
    session.dispose();
  }
}
