// Verification metrics against brute force over the pairs: ROC AUC, the best threshold, TAR at FAR.

import { describe, expect, it } from 'vitest';
import { Rng } from '../../runtime/data/random.ts';
import { accuracyAt, allPairDistances, bestThreshold, distance, rocAuc, tarAtFar, verificationReport } from '../../runtime/faces/verification.ts';

function encodings(count: number, classes: number, dim: number, seed: number) {
  const rng = Rng.seeded(seed);
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  const data = new Float32Array(count * dim);
  // Quantised values make tied distances, which the metrics must count half.
  for (let i = 0; i < data.length; i++) data[i] = Math.round(rng.normal() * 2 + (labels[Math.floor(i / dim)] === i % dim ? 4 : 0)) / 2;
  return { e: { data, count, dim }, labels };
}

describe('verification metrics', () => {
  const { e, labels } = encodings(60, 4, 3, 7);
  const pairs = allPairDistances(e, labels);
  const same: number[] = [];
  const diff: number[] = [];
  for (let i = 0; i < e.count; i++)
    for (let j = i + 1; j < e.count; j++) (labels[i] === labels[j] ? same : diff).push(distance(e.data.subarray(i * 3, i * 3 + 3), e.data.subarray(j * 3, j * 3 + 3)));

  it('splits every pair by identity', () => {
    expect(pairs.same.length).toBe(same.length);
    expect(pairs.different.length).toBe(diff.length);
    expect(pairs.same.length + pairs.different.length).toBe((60 * 59) / 2);
  });

  it('ROC AUC is the fraction of (same, different) pairs ordered right, ties half', () => {
    let wins = 0;
    for (const s of same) for (const d of diff) wins += s < d ? 1 : s === d ? 0.5 : 0;
    const auc = rocAuc(pairs);
    expect(auc).toBeCloseTo(wins / (same.length * diff.length), 12);
    expect(auc).toBeGreaterThan(0.6);
  });

  it('the best threshold is the best of every cut', () => {
    const candidates = [...same, ...diff, -1];
    const brute = Math.max(...candidates.map((t) => (same.filter((s) => s <= t).length + diff.filter((d) => d > t).length) / (same.length + diff.length)));
    const best = bestThreshold(pairs);
    expect(best.accuracy).toBeCloseTo(brute, 12);
    expect(accuracyAt(pairs, best.threshold)).toBeCloseTo(brute, 12);
  });

  it('TAR at FAR: the most same pairs accepted with at most far of the different ones', () => {
    for (const far of [0.01, 0.05, 0.2]) {
      const { tar, threshold } = tarAtFar(pairs, far);
      expect(diff.filter((d) => d < threshold).length).toBeLessThanOrEqual(far * diff.length);
      expect(tar).toBeCloseTo(same.filter((s) => s < threshold).length / same.length, 12);
      // Any larger threshold (the next different distance up) would exceed the false-accept rate.
      const next = diff.filter((d) => d > threshold).sort((a, b) => a - b)[0];
      if (next !== undefined) expect(diff.filter((d) => d <= threshold).length).toBeGreaterThan(far * diff.length);
    }
  });

  it('refuses data with no same-identity pair', () => {
    const { e: one } = encodings(5, 5, 3, 1);
    expect(() => verificationReport(allPairDistances(one, [0, 1, 2, 3, 4]))).toThrow(/no two images share an identity/);
  });
});
