// The per-step dropout seed every trainer feeds (sessions, metric training, bundles): a function
// of the run's seed and the step, so a resumed run draws the same masks. Browser-safe.

/** Kept below 2^24 so the seed is exact as a float32 feed. */
export function dropoutSeed(seed: number, step: number): Float32Array {
  return new Float32Array([(seed * 1_000_003 + step) % 16_777_216]);
}
