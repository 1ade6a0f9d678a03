// Seeded stratified samples and splits: every class keeps its share, so `--limit 64` on a folder
// sorted by class no longer trains on the first class only, and `--val 0.2` holds out a fifth of
// each class. The same seed gives the same indices.

import { DataError } from './dataset.ts';
import { Rng } from './random.ts';

/** Example indices of each class, each class's list shuffled by the seed. */
function shuffledClasses(classOf: (i: number) => number, length: number, seed: number): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < length; i++) {
    const c = classOf(i);
    if (!groups.has(c)) groups.set(c, []);
    groups.get(c)!.push(i);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((c) => {
    const members = groups.get(c)!;
    const order = Rng.seeded(seed, 0x57a7, c).permutation(members.length);
    return Array.from(order, (k) => members[k]!);
  });
}

/** Largest-remainder shares of `n` in proportion to `sizes`. */
function shares(sizes: readonly number[], n: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * n) / total);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => ({ r: e - Math.floor(e), i })).sort((a, b) => b.r - a.r || a.i - b.i);
  const missing = n - out.reduce((a, b) => a + b, 0);
  for (let k = 0; k < missing; k++) out[order[k]!.i]!++;
  return out;
}

const sorted = (xs: number[]): Int32Array => Int32Array.from(xs.sort((a, b) => a - b));

/** `n` examples, each class in proportion (classOf absent: a seeded sample of all). */
export function stratifiedSample(classOf: ((i: number) => number) | undefined, length: number, n: number, seed: number): Int32Array {
  if (n >= length) return Int32Array.from({ length }, (_, i) => i);
  const groups = shuffledClasses(classOf ?? (() => 0), length, seed);
  const take = shares(groups.map((g) => g.length), n);
  return sorted(groups.flatMap((g, c) => g.slice(0, take[c])));
}

/** A held-out share `fraction` of each class (at least one example of every class with two or more). */
export function stratifiedSplit(classOf: ((i: number) => number) | undefined, length: number, fraction: number, seed: number): { train: Int32Array; val: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new DataError(`--val expects a fraction between 0 and 1, got ${fraction}`);
  const groups = shuffledClasses(classOf ?? (() => 0), length, seed);
  const train: number[] = [];
  const val: number[] = [];
  for (const g of groups) {
    const k = g.length < 2 ? 0 : Math.min(g.length - 1, Math.max(1, Math.round(g.length * fraction)));
    val.push(...g.slice(0, k));
    train.push(...g.slice(k));
  }
  if (val.length === 0) throw new DataError(`--val ${fraction}: the data is too small to hold any example out`);
  return { train: sorted(train), val: sorted(val) };
}
