// Batches drawn from class folders for metric learning: P identities x K images (for mined
// triplets), and balanced same/different pairs (for the Siamese FaceVerification model).

import type { Rng } from '../data/random.ts';
import { FaceError } from './verification.ts';

/** Example indices of each class that has at least `min` examples. */
export function indicesByClass(labels: ArrayLike<number>, min: number): number[][] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  return [...byClass.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, list]) => list)
    .filter((list) => list.length >= min);
}

/** Checks that P x K batches can be drawn: at least P identities with two or more images. */
export function checkPk(classes: readonly number[][], p: number, k: number): void {
  if (!(Number.isInteger(p) && p >= 2)) throw new FaceError(`--identities (P) must be an integer >= 2, got ${p}`);
  if (!(Number.isInteger(k) && k >= 2)) throw new FaceError(`--per-identity (K) must be an integer >= 2, got ${k}`);
  if (classes.length < p) throw new FaceError(`P x K batches need ${p} identities with at least two images each; the data has ${classes.length}`);
}

/**
 * P distinct identities, K images of each (without replacement when the identity has K or more,
 * else every image once and the rest drawn again). Returns example indices, identity-major.
 */
export function pkBatch(classes: readonly number[][], p: number, k: number, rng: Rng): { indices: Int32Array; labels: Int32Array } {
  const chosen = rng.permutation(classes.length).subarray(0, p);
  const indices = new Int32Array(p * k);
  const labels = new Int32Array(p * k);
  chosen.forEach((c, slot) => {
    const list = classes[c];
    const order = rng.permutation(list.length);
    for (let j = 0; j < k; j++) {
      indices[slot * k + j] = list[j < list.length ? order[j] : order[rng.int(list.length)]];
      labels[slot * k + j] = c;
    }
  });
  return { indices, labels };
}

/** `count` pairs, half of one identity (target 1) and half of two (target 0), in random order. */
export function pairBatch(classes: readonly number[][], count: number, rng: Rng): { first: Int32Array; second: Int32Array; same: Float32Array } {
  if (classes.length < 2) throw new FaceError(`pairs need two identities with at least two images each; the data has ${classes.length}`);
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  const same = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const isSame = i % 2 === 0;
    const c1 = rng.int(classes.length);
    let c2 = c1;
    if (!isSame) c2 = (c1 + 1 + rng.int(classes.length - 1)) % classes.length;
    const a = classes[c1];
    const b = classes[c2];
    const ia = rng.int(a.length);
    let ib = rng.int(b.length);
    if (isSame) ib = (ia + 1 + rng.int(a.length - 1)) % a.length;
    first[i] = a[ia];
    second[i] = b[ib];
    same[i] = isSame ? 1 : 0;
  }
  const order = rng.permutation(count);
  return { first: order.map((j) => first[j]), second: order.map((j) => second[j]), same: Float32Array.from(order, (j) => same[j]) };
}
