// Short batches: the examples first, zeros after, whatever the caller (bundles, trunk caching,
// encoders, visualize); a full Float32Array batch is not copied.

import { describe, expect, it } from 'vitest';
import { padBatch } from '../../runtime/pad-batch.ts';

describe('padBatch', () => {
  it('puts the examples first and zeros after', () => {
    expect([...padBatch([1, 2, 3, 4], 2, 3, 2)]).toEqual([1, 2, 3, 4, 0, 0]);
    expect([...padBatch(Float32Array.of(5, 6), 1, 2, 2)]).toEqual([5, 6, 0, 0]);
  });

  it('returns a full Float32Array batch itself', () => {
    const full = Float32Array.of(1, 2, 3, 4);
    expect(padBatch(full, 2, 2, 2)).toBe(full);
    expect(padBatch([1, 2], 1, 1, 2)).toBeInstanceOf(Float32Array);
  });

  it('rejects more examples than the batch holds, or a length that is not count rows', () => {
    expect(() => padBatch([1, 2, 3, 4], 2, 1, 2)).toThrow(/batch of 1 cannot hold 2/);
    expect(() => padBatch([1, 2, 3], 2, 2, 2)).toThrow(/need 4, got 3/);
  });
});
