// A fixed, seeded random batch for a BenchModel: both sides train on the same numbers.

import type { BenchModel } from './models.ts';

export interface Batch {
  /** N x H x W x C, standard-normal-ish values, channels last. */
  readonly images: Float32Array;
  /** Class index per example. */
  readonly labels: Int32Array;
  /** N x classes one-hot rows of `labels`. */
  readonly oneHot: Float32Array;
}

/** mulberry32: small, fast, good enough for benchmark inputs. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBatch(model: BenchModel, seed: number): Batch {
  const next = generator(seed);
  const [h, w, c] = model.inputShape;
  const images = new Float32Array(model.batch * h * w * c);
  // Sum of three uniforms, centred and scaled: close enough to N(0, 1) for inputs.
  for (let i = 0; i < images.length; i++) images[i] = (next() + next() + next() - 1.5) * 2;
  const labels = new Int32Array(model.batch);
  const oneHot = new Float32Array(model.batch * model.classes);
  for (let n = 0; n < model.batch; n++) {
    const label = Math.floor(next() * model.classes);
    labels[n] = label;
    oneHot[n * model.classes + label] = 1;
  }
  return { images, labels, oneHot };
}
