// Local warping and scale crops: a zero field and a full window change nothing, a field is smooth
// and bounded, draws are deterministic, and every geometric change is one resampling.

import { describe, expect, it } from 'vitest';
import { affine, augmentImage, displacementField, geometricMap, resample, type ImageShape } from '../../runtime/data/augment.ts';
import { Rng } from '../../runtime/data/random.ts';

const SHAPE: ImageShape = [2, 20, 24];
const image = Float32Array.from({ length: 2 * 20 * 24 }, (_, i) => Math.sin(i * 0.37) + (i % 24) / 24);

describe('local warp and scale crop', () => {
  it('are the identity with a zero field and the whole window', () => {
    const field = displacementField({ magnitude: 0, grid: 4 }, Rng.seeded(1));
    const map = geometricMap(SHAPE, 0, 0, field, { top: 0, left: 0, height: 20, width: 24 });
    expect(resample(image, SHAPE, map)).toEqual(image);
  });

  it('moves pixels by a smooth field no larger than its magnitude (plus cubic overshoot)', () => {
    const field = displacementField({ magnitude: 3, grid: 4 }, Rng.seeded(2));
    const map = geometricMap(SHAPE, 0, 0, field);
    let largest = 0;
    let steepest = 0;
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 24; x++) {
        const [sy, sx] = map(y, x);
        largest = Math.max(largest, Math.abs(sy - y), Math.abs(sx - x));
        if (x > 0) {
          const [py, px] = map(y, x - 1);
          steepest = Math.max(steepest, Math.abs(sy - y - (py - y)), Math.abs(sx - x - (px - x + 1)));
        }
      }
    }
    expect(largest).toBeGreaterThan(0.5);
    expect(largest).toBeLessThanOrEqual(3 * 1.25);
    // Neighbours move almost together: the field is smooth at the pixel scale.
    expect(steepest).toBeLessThan(1);
  });

  it('draws the same image for the same generator, and resamples once', () => {
    const opts = { warp: { magnitude: 2, grid: 4 }, scaleCrop: { minScale: 0.8 }, rotateDegrees: 10 };
    const a = augmentImage(image, SHAPE, opts, Rng.seeded(5, 1)).image;
    expect(augmentImage(image, SHAPE, opts, Rng.seeded(5, 1)).image).toEqual(a);
    expect(augmentImage(image, SHAPE, opts, Rng.seeded(5, 2)).image).not.toEqual(a);
    // Rotation alone keeps its own single warp (the stream of draws is unchanged for old options).
    const rng = Rng.seeded(9);
    const angle = ((10 * Math.PI) / 180) * (2 * rng.float() - 1);
    expect(augmentImage(image, SHAPE, { rotateDegrees: 10 }, Rng.seeded(9)).image).toEqual(affine(image, SHAPE, angle, 0 * (2 * rng.float() - 1)));
  });
});
