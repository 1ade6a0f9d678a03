// Mining against a brute-force search over every triplet of a batch.

import { describe, expect, it } from 'vitest';
import { Rng } from '../../runtime/data/random.ts';
import { mineTriplets, tripletLoss, type MiningStrategy } from '../../runtime/faces/mining.ts';
import { squaredDistanceMatrix } from '../../runtime/faces/verification.ts';

/** A P x K batch of random encodings (unit length, so distances look like a trained encoder's). */
function batch(p: number, k: number, dim: number, seed: number) {
  const rng = Rng.seeded(seed);
  const n = p * k;
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(i / k);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = rng.normal() + (d === labels[i] % dim ? 1.5 : 0);
      data[i * dim + d] = v;
      norm += v * v;
    }
    for (let d = 0; d < dim; d++) data[i * dim + d] /= Math.sqrt(norm);
  }
  return { dist: squaredDistanceMatrix({ data, count: n, dim }), labels, n };
}

/** Every (anchor, positive, negative) of the batch, in index order. */
function allTriplets(labels: Int32Array) {
  const out: { anchor: number; positive: number; negative: number }[] = [];
  for (let a = 0; a < labels.length; a++)
    for (let p = 0; p < labels.length; p++)
      for (let q = 0; q < labels.length; q++) if (p !== a && labels[p] === labels[a] && labels[q] !== labels[a]) out.push({ anchor: a, positive: p, negative: q });
  return out;
}

describe('triplet mining', () => {
  const margin = 0.2;
  for (const seed of [1, 2, 3]) {
    const { dist, labels, n } = batch(5, 4, 6, seed);
    const all = allTriplets(labels);
    const d = (i: number, j: number) => dist[i * n + j];

    it(`semi-hard picks the negative brute force finds (seed ${seed})`, () => {
      const mined = mineTriplets(dist, labels, margin, 'semi-hard', Rng.seeded(seed));
      expect(mined.triplets).toHaveLength(n);
      let semiHardSeen = 0;
      for (const t of mined.triplets) {
        expect(t.anchor).toBe(mined.triplets.indexOf(t));
        expect(labels[t.positive]).toBe(labels[t.anchor]);
        const candidates = all.filter((c) => c.anchor === t.anchor && c.positive === t.positive);
        // FaceNet's semi-hard: farther than the positive; the closest such (first index on ties).
        const farther = candidates.filter((c) => d(c.anchor, c.negative) > d(c.anchor, c.positive));
        const pool = farther.length > 0 ? farther : candidates;
        const pick = farther.length > 0 ? Math.min(...pool.map((c) => d(c.anchor, c.negative))) : Math.max(...pool.map((c) => d(c.anchor, c.negative)));
        const expected = pool.find((c) => d(c.anchor, c.negative) === pick)!.negative;
        expect(t.negative).toBe(expected);
        if (farther.length > 0 && d(t.anchor, t.negative) < d(t.anchor, t.positive) + margin) semiHardSeen++;
      }
      // The batch is hard enough that some picks lie inside the margin: the case mining is for.
      expect(semiHardSeen).toBeGreaterThan(0);
    });

    it(`batch-hard picks the farthest positive and closest negative (seed ${seed})`, () => {
      const mined = mineTriplets(dist, labels, margin, 'batch-hard', Rng.seeded(seed));
      for (const t of mined.triplets) {
        const mine = all.filter((c) => c.anchor === t.anchor);
        const hardestP = Math.max(...mine.map((c) => d(c.anchor, c.positive)));
        const hardestN = Math.min(...mine.map((c) => d(c.anchor, c.negative)));
        expect(d(t.anchor, t.positive)).toBe(hardestP);
        expect(d(t.anchor, t.negative)).toBe(hardestN);
      }
    });
  }

  it('reports the fraction of triplets with a positive loss, and batch-hard has the most', () => {
    const { dist, labels, n } = batch(6, 4, 4, 9);
    const fraction = (s: MiningStrategy) => {
      const mined = mineTriplets(dist, labels, margin, s, Rng.seeded(4));
      const active = mined.triplets.filter((t) => tripletLoss(dist, n, t, margin) > 0).length / n;
      expect(mined.active).toBeCloseTo(active, 12);
      return active;
    };
    const hard = fraction('batch-hard');
    expect(hard).toBeGreaterThanOrEqual(fraction('semi-hard'));
    expect(hard).toBeGreaterThanOrEqual(fraction('random'));
    expect(hard).toBeGreaterThan(0);
  });

  it('random picks valid triplets and refuses a batch without positives', () => {
    const { dist, labels } = batch(3, 3, 4, 5);
    for (const t of mineTriplets(dist, labels, margin, 'random', Rng.seeded(1)).triplets) {
      expect(labels[t.positive]).toBe(labels[t.anchor]);
      expect(t.positive).not.toBe(t.anchor);
      expect(labels[t.negative]).not.toBe(labels[t.anchor]);
    }
    expect(() => mineTriplets(new Float64Array(9), Int32Array.from([0, 1, 2]), margin, 'semi-hard', Rng.seeded(1))).toThrow(/K >= 2/);
  });
});
