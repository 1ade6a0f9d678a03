// Pairs and triplets sampled from a class folder (one sub-folder per identity), for Siamese
// networks: each example is an image of the folder plus partners drawn from the example's own
// generator (seeded by the epoch and the example's place in it), so every epoch sees new
// partners and a resumed run sees exactly the partners an uninterrupted one would have.
//   triplets: anchor (image i), positive (another image of its class), negative (an image of another class)
//   pairs:    first (image i), second (same class or not, half and half), targets (1 same, 0 different)

import type { Rng } from './random.ts';
import { DataError, type Dataset } from './dataset.ts';
import { labelsOf } from './labels.ts';
import type { Records } from './records.ts';

/** Example indices of each class. */
function byClass(ds: Dataset): { labels: Int32Array; members: Int32Array[] } {
  const labels = labelsOf(ds);
  const lists: number[][] = Array.from({ length: ds.classes }, () => []);
  labels.forEach((c, i) => lists[c]!.push(i));
  return { labels, members: lists.map((l) => Int32Array.from(l)) };
}

/** Another example of class `c` than `i` (i itself when it is the class's only one). */
function sameClass(members: Int32Array, i: number, rng: Rng): number {
  if (members.length < 2) return i;
  const k = rng.int(members.length - 1);
  const j = members[k]!;
  return j === i ? members[members.length - 1]! : j;
}

/** An example of any class but `c`. */
function otherClass(labels: Int32Array, members: readonly Int32Array[], c: number, rng: Rng): number {
  const total = labels.length - members[c]!.length;
  let k = rng.int(total);
  for (let other = 0; other < members.length; other++) {
    if (other === c) continue;
    if (k < members[other]!.length) return members[other]![k]!;
    k -= members[other]!.length;
  }
  throw new RangeError('no example outside the class');
}

function checkClasses(ds: Dataset, source: string): void {
  if (ds.classes < 2) throw new DataError(`${source}: pairs and triplets need at least two class folders, found ${ds.classes}`);
}

export function tripletRecords(ds: Dataset, source: string): Records {
  checkClasses(ds, source);
  const { labels, members } = byClass(ds);
  const shape = ds.shape;
  return {
    length: ds.length,
    fields: new Map(['anchor', 'positive', 'negative'].map((n) => [n, { shape, dtype: 'f32' as const }] as const)),
    ...(ds.classNames ? { classNames: ds.classNames } : {}),
    classOf: (i) => labels[i]!,
    get(i, rng) {
      const c = labels[i]!;
      const p = sameClass(members[c]!, i, rng);
      const n = otherClass(labels, members, c, rng);
      return new Map([
        ['anchor', ds.get(i).image],
        ['positive', ds.get(p).image],
        ['negative', ds.get(n).image],
      ]);
    },
  };
}

export function pairRecords(ds: Dataset, source: string): Records {
  checkClasses(ds, source);
  const { labels, members } = byClass(ds);
  const shape = ds.shape;
  return {
    length: ds.length,
    fields: new Map([
      ['first', { shape, dtype: 'f32' as const }],
      ['second', { shape, dtype: 'f32' as const }],
      ['targets', { shape: [1], dtype: 'f32' as const }],
    ]),
    ...(ds.classNames ? { classNames: ds.classNames } : {}),
    classOf: (i) => labels[i]!,
    get(i, rng) {
      const c = labels[i]!;
      const same = rng.chance(0.5);
      const j = same ? sameClass(members[c]!, i, rng) : otherClass(labels, members, c, rng);
      return new Map([
        ['first', ds.get(i).image],
        ['second', ds.get(j).image],
        ['targets', new Float32Array([same ? 1 : 0])],
      ]);
    },
  };
}
