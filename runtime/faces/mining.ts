// Online triplet mining within a batch of P identities x K images, on the squared distances the
// triplet loss uses. Every image of the batch is an anchor once, so each batch gives exactly
// P*K triplets (the compiled step's batch is static):
//   semi-hard  (FaceNet): a random positive; the closest negative that is still farther than the
//              positive (d_an > d_ap); when no negative is, the farthest one (as TensorFlow's
//              triplet_semihard_loss does, so training does not collapse on the hardest ones)
//   batch-hard (Hermans et al. 2017): the farthest positive and the closest negative
//   random     a random positive and a random negative: the baseline
// Ties go to the lowest index.

import type { Rng } from '../data/random.ts';
import { FaceError } from './verification.ts';

export const MINING_STRATEGIES = ['semi-hard', 'batch-hard', 'random'] as const;
export type MiningStrategy = (typeof MINING_STRATEGIES)[number];

export interface Triplet {
  readonly anchor: number;
  readonly positive: number;
  readonly negative: number;
}

export interface MinedBatch {
  readonly triplets: readonly Triplet[];
  /** Fraction of triplets with a positive loss, d_ap - d_an + margin > 0 (before the step). */
  readonly active: number;
}

/** The loss of one triplet on squared distances [n, n]. */
export function tripletLoss(dist: Float64Array, n: number, t: Triplet, margin: number): number {
  return Math.max(0, dist[t.anchor * n + t.positive] - dist[t.anchor * n + t.negative] + margin);
}

/**
 * One triplet per anchor. `dist` holds squared distances [n, n] of the batch's encodings; every
 * label must occur at least twice and at least two labels must occur.
 */
export function mineTriplets(dist: Float64Array, labels: ArrayLike<number>, margin: number, strategy: MiningStrategy, rng: Rng): MinedBatch {
  const n = labels.length;
  if (dist.length !== n * n) throw new RangeError(`distance matrix has ${dist.length} values, ${n} labels need ${n * n}`);
  const triplets: Triplet[] = [];
  let active = 0;
  for (let a = 0; a < n; a++) {
    const positives: number[] = [];
    const negatives: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === a) continue;
      (labels[j] === labels[a] ? positives : negatives).push(j);
    }
    if (positives.length === 0) throw new FaceError(`image ${a} of the batch has no other image of its identity (label ${labels[a]}): a batch needs K >= 2 images per identity`);
    if (negatives.length === 0) throw new FaceError('the batch holds one identity only: a batch needs P >= 2 identities');
    const d = (j: number) => dist[a * n + j];
    let positive: number;
    let negative: number;
    if (strategy === 'batch-hard') {
      positive = positives.reduce((best, j) => (d(j) > d(best) ? j : best));
      negative = negatives.reduce((best, j) => (d(j) < d(best) ? j : best));
    } else if (strategy === 'random') {
      positive = positives[rng.int(positives.length)];
      negative = negatives[rng.int(negatives.length)];
    } else {
      positive = positives[rng.int(positives.length)];
      negative = semiHardNegative(negatives, d, d(positive));
    }
    const t = { anchor: a, positive, negative };
    if (tripletLoss(dist, n, t, margin) > 0) active++;
    triplets.push(t);
  }
  return { triplets, active: active / n };
}

/** The closest negative farther than the positive; else the farthest negative. */
function semiHardNegative(negatives: readonly number[], d: (j: number) => number, dap: number): number {
  let closestFarther = -1;
  let farthest = negatives[0];
  for (const j of negatives) {
    if (d(j) > dap && (closestFarther < 0 || d(j) < d(closestFarther))) closestFarther = j;
    if (d(j) > d(farthest)) farthest = j;
  }
  return closestFarther >= 0 ? closestFarther : farthest;
}
