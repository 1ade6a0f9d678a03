// Verification metrics over pairs of encodings: distances, the ROC curve's area, the accuracy of
// the best threshold and the true-accept rate at a fixed false-accept rate. A pair is accepted
// ("same identity") when its Euclidean distance is at most the threshold, as in the course.

import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';

/** Raised for input that cannot give a verification answer (no same-identity pairs, ...). */
export class FaceError extends UserError {
  override readonly kind: UserErrorKind = 'data';
  override readonly name = 'FaceError';
}

/** Encodings as one row-major matrix: `count` rows of `dim` values. */
export interface Encodings {
  readonly data: Float32Array;
  readonly count: number;
  readonly dim: number;
}

export function row(e: Encodings, i: number): Float32Array {
  return e.data.subarray(i * e.dim, (i + 1) * e.dim);
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k] - b[k];
    s += d * d;
  }
  return s;
}

export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return Math.sqrt(squaredDistance(a, b));
}

/** Squared distances between every two rows, [count, count] row-major. */
export function squaredDistanceMatrix(e: Encodings): Float64Array {
  const out = new Float64Array(e.count * e.count);
  for (let i = 0; i < e.count; i++) {
    for (let j = i + 1; j < e.count; j++) {
      const d = squaredDistance(row(e, i), row(e, j));
      out[i * e.count + j] = d;
      out[j * e.count + i] = d;
    }
  }
  return out;
}

/** Distances of same-identity and different-identity pairs, each sorted ascending. */
export interface PairDistances {
  readonly same: Float64Array;
  readonly different: Float64Array;
}

/** Every unordered pair of rows, split by whether their labels agree. */
export function allPairDistances(e: Encodings, labels: ArrayLike<number>): PairDistances {
  let sameCount = 0;
  for (let i = 0; i < e.count; i++) for (let j = i + 1; j < e.count; j++) if (labels[i] === labels[j]) sameCount++;
  const total = (e.count * (e.count - 1)) / 2;
  const same = new Float64Array(sameCount);
  const different = new Float64Array(total - sameCount);
  let s = 0;
  let d = 0;
  for (let i = 0; i < e.count; i++) {
    for (let j = i + 1; j < e.count; j++) {
      const v = distance(row(e, i), row(e, j));
      if (labels[i] === labels[j]) same[s++] = v;
      else different[d++] = v;
    }
  }
  return { same: same.sort(), different: different.sort() };
}

function requirePairCounts(same: number, different: number): void {
  if (same === 0) throw new FaceError('no two images share an identity: a threshold needs same-identity pairs (give each identity at least two images)');
  if (different === 0) throw new FaceError('every image has the same identity: a threshold needs pairs of different identities');
}

/** Fails, before anything is encoded, when these identity labels give no pair of one identity or none of two. */
export function requireVerificationPairs(labels: ArrayLike<number>): void {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  const repeated = [...counts.values()].some((c) => c >= 2);
  requirePairCounts(repeated ? 1 : 0, counts.size >= 2 ? 1 : 0);
}

/** Number of values in sorted `a` that are < x (strict) or <= x. */
function countBelow(a: Float64Array, x: number, inclusive: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x || (inclusive && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Area under the ROC curve: the chance that a random same-identity pair is closer than a random
 * different-identity pair, ties counted half (the Mann-Whitney statistic).
 */
export function rocAuc(p: PairDistances): number {
  requirePairCounts(p.same.length, p.different.length);
  let wins = 0;
  for (const v of p.same) {
    const below = countBelow(p.different, v, false);
    const upTo = countBelow(p.different, v, true);
    wins += p.different.length - upTo + (upTo - below) / 2;
  }
  return wins / (p.same.length * p.different.length);
}

/** Accepting pairs at distance <= threshold: the fraction of all pairs decided right. */
export function accuracyAt(p: PairDistances, threshold: number): number {
  const accepted = countBelow(p.same, threshold, true);
  const rejected = p.different.length - countBelow(p.different, threshold, true);
  return (accepted + rejected) / (p.same.length + p.different.length);
}

/**
 * The threshold that decides the most pairs right, over every cut between two observed distances;
 * it is placed halfway between the last accepted and the next distance.
 */
export function bestThreshold(p: PairDistances): { threshold: number; accuracy: number } {
  requirePairCounts(p.same.length, p.different.length);
  const all = new Float64Array(p.same.length + p.different.length);
  all.set(p.same);
  all.set(p.different, p.same.length);
  all.sort();
  const total = all.length;
  // Start by rejecting everything: only the different pairs are right.
  let best = { threshold: all[0] - 1e-6, correct: p.different.length };
  let i = 0;
  let sameBelow = 0;
  let diffBelow = 0;
  while (i < total) {
    const v = all[i];
    while (i < total && all[i] === v) i++;
    sameBelow = countBelow(p.same, v, true);
    diffBelow = countBelow(p.different, v, true);
    const correct = sameBelow + (p.different.length - diffBelow);
    if (correct > best.correct) best = { threshold: i < total ? (v + all[i]) / 2 : v + 1e-6, correct };
  }
  return { threshold: best.threshold, accuracy: best.correct / total };
}

/**
 * The true-accept rate at the largest threshold whose false-accept rate is at most `far`; with
 * fewer than 1/far different pairs the rate is resolved only to 1/(different pairs).
 */
export function tarAtFar(p: PairDistances, far: number): { tar: number; threshold: number } {
  requirePairCounts(p.same.length, p.different.length);
  const allowed = Math.floor(far * p.different.length);
  // Accept strictly below the (allowed+1)-th closest different pair.
  const threshold = allowed < p.different.length ? p.different[allowed] : Infinity;
  const tar = countBelow(p.same, threshold, false) / p.same.length;
  return { tar, threshold };
}

export interface VerificationReport {
  readonly sameCount: number;
  readonly differentCount: number;
  readonly threshold: number;
  readonly accuracy: number;
  readonly auc: number;
  readonly tarAtFar: readonly { readonly far: number; readonly tar: number; readonly threshold: number }[];
}

export function verificationReport(p: PairDistances, fars: readonly number[] = [1e-2, 1e-3]): VerificationReport {
  const best = bestThreshold(p);
  return {
    sameCount: p.same.length,
    differentCount: p.different.length,
    threshold: best.threshold,
    accuracy: best.accuracy,
    auc: rocAuc(p),
    tarAtFar: fars.map((far) => ({ far, ...tarAtFar(p, far) })),
  };
}
