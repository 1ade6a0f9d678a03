import { describe, expect, it } from 'vitest';
import { affine, augmentImage, crop, fitCenter, mirror, pcaColorBasis, symmetricEigen3, tenCrop, type ImageShape } from '../../runtime/data/augment.ts';
import { ArrayDataset } from '../../runtime/data/dataset.ts';
import { Rng } from '../../runtime/data/random.ts';

/** A c x h x w image whose value encodes (channel, y, x). */
function coded([c, h, w]: ImageShape): Float32Array {
  return Float32Array.from({ length: c * h * w }, (_, i) => {
    const ch = Math.floor(i / (h * w));
    const y = Math.floor(i / w) % h;
    return ch * 100 + y * 10 + (i % w);
  });
}
const at = (img: Float32Array, [, h, w]: ImageShape, c: number, y: number, x: number) => img[(c * h + y) * w + x];

describe('geometric augmentations', () => {
  const s: ImageShape = [2, 4, 5];
  const img = coded(s);

  it('mirrors left-right', () => {
    const m = mirror(img, s);
    expect(at(m, s, 1, 2, 0)).toBe(at(img, s, 1, 2, 4));
    expect(mirror(m, s)).toEqual(img);
  });

  it('crops with zero padding outside, and fits to a size from the centre', () => {
    const c = crop(img, s, -1, 2, 3, 3);
    expect(at(c, [2, 3, 3], 0, 0, 0)).toBe(0);
    expect(at(c, [2, 3, 3], 1, 1, 0)).toBe(at(img, s, 1, 0, 2));
    expect(at(c, [2, 3, 3], 0, 2, 2)).toBe(at(img, s, 0, 1, 4));
    const padded = fitCenter(img, s, 8, 9);
    expect(at(padded, [2, 8, 9], 1, 2, 2)).toBe(at(img, s, 1, 0, 0));
    expect(fitCenter(padded, [2, 8, 9], 4, 5)).toEqual(img);
  });

  it('rotates about the centre (90 degrees is exact on a square) and shears', () => {
    const sq: ImageShape = [1, 5, 5];
    const im = coded(sq);
    const r = affine(im, sq, Math.PI / 2, 0);
    // A quarter turn maps the top row onto a side column; the centre stays.
    expect(at(r, sq, 0, 2, 2)).toBeCloseTo(at(im, sq, 0, 2, 2), 4);
    const col = [0, 1, 2, 3, 4].map((y) => at(r, sq, 0, y, 4));
    const row = [0, 1, 2, 3, 4].map((x) => at(im, sq, 0, 0, x));
    expect(col.map((v) => Math.round(v))).toEqual(row);
    expect(affine(im, sq, 0, 0)).toEqual(im);
    const sh = affine(im, sq, 0, 1);
    // Shear 1: the centre row is unchanged, the row below shifts right by one.
    expect([0, 1, 2, 3, 4].map((x) => at(sh, sq, 0, 2, x))).toEqual([0, 1, 2, 3, 4].map((x) => at(im, sq, 0, 2, x)));
    expect(at(sh, sq, 0, 3, 3)).toBeCloseTo(at(im, sq, 0, 3, 2), 4);
  });

  it('10-crop gives 4 corners, the centre, and their mirrors', () => {
    const crops = tenCrop(img, s, 3, 3);
    expect(crops).toHaveLength(10);
    const cs: ImageShape = [2, 3, 3];
    expect(at(crops[0], cs, 0, 0, 0)).toBe(at(img, s, 0, 0, 0));
    expect(at(crops[1], cs, 0, 0, 2)).toBe(at(img, s, 0, 0, 4));
    expect(at(crops[2], cs, 1, 2, 0)).toBe(at(img, s, 1, 3, 0));
    expect(at(crops[3], cs, 1, 2, 2)).toBe(at(img, s, 1, 3, 4));
    expect(at(crops[4], cs, 0, 1, 1)).toBe(at(img, s, 0, 1, 2)); // centre window rows 0-2 (floor), cols 1-3
    for (let k = 0; k < 5; k++) expect(crops[k + 5]).toEqual(mirror(crops[k], cs));
    expect(() => tenCrop(img, s, 5, 5)).toThrow(/does not fit/);
  });
});

describe('colour augmentations', () => {
  it('shifts each channel by one amount within the bound', () => {
    const s: ImageShape = [3, 2, 2];
    const img = new Float32Array(12).fill(0.5);
    const { image } = augmentImage(img, s, { colorShift: 0.2 }, Rng.seeded(3));
    for (let c = 0; c < 3; c++) {
      const vals = Array.from(image.subarray(c * 4, c * 4 + 4));
      expect(new Set(vals).size).toBe(1);
      expect(Math.abs(vals[0] - 0.5)).toBeLessThanOrEqual(0.2);
    }
    expect(img[0]).toBe(0.5); // the input is not modified
  });

  it('eigen-decomposes a symmetric 3x3 matrix', () => {
    const m = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 1],
    ];
    const { eigenvalues, eigenvectors } = symmetricEigen3(m);
    expect(eigenvalues[0]).toBeGreaterThanOrEqual(eigenvalues[1]);
    expect(eigenvalues[1]).toBeGreaterThanOrEqual(eigenvalues[2]);
    expect(eigenvalues.reduce((a, b) => a + b)).toBeCloseTo(8, 10);
    for (let k = 0; k < 3; k++) {
      const v = eigenvectors[k];
      for (let r = 0; r < 3; r++) expect(m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2]).toBeCloseTo(eigenvalues[k] * v[r], 10);
      expect(Math.hypot(...v)).toBeCloseTo(1, 10);
    }
  });

  it('PCA colour augmentation moves pixels along the data set\'s principal colour axis', () => {
    // Pixels vary along (1, 1, 0) only: one non-zero eigenvalue, eigenvector (1, 1, 0)/sqrt 2.
    const n = 50;
    const rng = Rng.seeded(8);
    const pixels = new Float32Array(n * 3 * 4);
    for (let e = 0; e < n; e++)
      for (let i = 0; i < 4; i++) {
        const t = rng.float();
        pixels[e * 12 + i] = t;
        pixels[e * 12 + 4 + i] = t;
        pixels[e * 12 + 8 + i] = 0.5;
      }
    const ds = new ArrayDataset(pixels, new Int32Array(n), [3, 2, 2]);
    const basis = pcaColorBasis(ds);
    expect(Math.abs(basis.eigenvectors[0][0])).toBeCloseTo(Math.SQRT1_2, 3);
    expect(basis.eigenvectors[0][2]).toBeCloseTo(0, 3);
    expect(basis.eigenvalues[1]).toBeCloseTo(0, 6);
    const img = ds.get(0).image;
    const { image } = augmentImage(img, ds.shape, { pca: { std: 1, basis } }, Rng.seeded(2));
    const dr = image[0] - img[0];
    const dg = image[4] - img[4];
    const db = image[8] - img[8];
    expect(Math.abs(dr)).toBeGreaterThan(1e-4);
    expect(dg).toBeCloseTo(dr, 5);
    expect(db).toBeCloseTo(0, 5);
    expect(() => pcaColorBasis(new ArrayDataset(new Float32Array(4), new Int32Array(1), [1, 2, 2]))).toThrow(/needs 3 channels/);
  });
});

describe('reproducibility', () => {
  it('the same seed gives the same augmented image, another seed another one', () => {
    const s: ImageShape = [3, 8, 8];
    const img = coded(s).map((v) => v / 300);
    const opts = { mirror: true, crop: { height: 6, width: 6, padding: 1 }, rotateDegrees: 20, shear: 0.2, colorShift: 0.1 };
    const a = augmentImage(img, s, opts, Rng.seeded(1, 2, 3));
    const b = augmentImage(img, s, opts, Rng.seeded(1, 2, 3));
    const c = augmentImage(img, s, opts, Rng.seeded(1, 2, 4));
    expect(a.shape).toEqual([3, 6, 6]);
    expect(b.image).toEqual(a.image);
    expect(c.image).not.toEqual(a.image);
  });
});
