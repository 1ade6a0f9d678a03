// The course's data augmentations on one CHW float image, all driven by a seeded Rng so that a given
// (seed, epoch, batch, example) always gives the same image, on any thread.
// Order: geometry (rotation + shear, local warp, scale crop: one resampling) -> random crop ->
// mirror -> colour shift -> PCA colour.

import { Rng } from './random.ts';
import { DataError, type Dataset } from './dataset.ts';

export type ImageShape = readonly [channels: number, height: number, width: number];

/** PCA colour basis of a data set's RGB pixels (AlexNet, "fancy PCA"). */
export interface PcaBasis {
  /** Eigenvalues of the 3x3 RGB covariance, largest first. */
  eigenvalues: [number, number, number];
  /** Unit eigenvectors, eigenvectors[k] belongs to eigenvalues[k]; each is [r, g, b]. */
  eigenvectors: [number[], number[], number[]];
}

export interface AugmentOptions {
  /** Flip left-right with probability 1/2. */
  mirror?: boolean;
  /** Random crop of height x width, after zero padding of `padding` pixels on each side (default 0). */
  crop?: { height: number; width: number; padding?: number };
  /** Rotation by a uniform angle in [-degrees, +degrees] about the centre. */
  rotateDegrees?: number;
  /** Horizontal shear by a uniform factor in [-shear, +shear] (x += shear * y, about the centre). */
  shear?: number;
  /** Adds a uniform shift in [-colorShift, +colorShift] to each channel (all pixels of the channel alike). */
  colorShift?: number;
  /** AlexNet's PCA colour augmentation: adds sum_k alpha_k * lambda_k * p_k, alpha_k ~ N(0, std^2). 3 channels only. */
  pca?: { std: number; basis: PcaBasis };
  /**
   * Local (elastic) warping: a smooth random displacement field, uniform in [-magnitude, +magnitude]
   * pixels at the nodes of a `grid` x `grid` lattice over the image and bicubically smooth between.
   */
  warp?: { magnitude: number; grid: number };
  /**
   * Random crop of a window covering a uniform share in [minScale, 1] of each side (same share for
   * both), at a uniform position, resized back to the image's size (bilinear).
   */
  scaleCrop?: { minScale: number };
}

export function augmentedShape(shape: ImageShape, opts: AugmentOptions): ImageShape {
  return opts.crop ? [shape[0], opts.crop.height, opts.crop.width] : shape;
}

export function validateAugmentOptions(shape: ImageShape, opts: AugmentOptions): void {
  const [c, h, w] = shape;
  if (opts.crop) {
    const p = opts.crop.padding ?? 0;
    if (opts.crop.height > h + 2 * p || opts.crop.width > w + 2 * p) {
      throw new DataError(`random crop ${opts.crop.height} x ${opts.crop.width} does not fit in ${h} x ${w} padded by ${p}`);
    }
  }
  if (opts.pca && c !== 3) throw new DataError(`PCA colour augmentation needs 3 channels (RGB), the images have ${c}`);
  if (opts.warp && !(Number.isInteger(opts.warp.grid) && opts.warp.grid >= 2)) throw new DataError(`local warp needs a grid of at least 2 x 2 nodes, got ${opts.warp.grid}`);
  if (opts.scaleCrop && !(opts.scaleCrop.minScale > 0 && opts.scaleCrop.minScale <= 1)) throw new DataError(`crop scale must be in (0, 1], got ${opts.scaleCrop.minScale}`);
}

/** Applies the augmentations in a fixed order, drawing from `rng`. Returns a new image and its shape. */
export function augmentImage(image: Float32Array, shape: ImageShape, opts: AugmentOptions, rng: Rng): { image: Float32Array; shape: ImageShape } {
  let img = image;
  let s = shape;
  // Each enabled option draws a fixed number of values, so the stream of draws depends only on the options.
  const turn = opts.rotateDegrees || opts.shear;
  const angle = turn ? ((opts.rotateDegrees ?? 0) * Math.PI) / 180 * (2 * rng.float() - 1) : 0;
  const shear = turn ? (opts.shear ?? 0) * (2 * rng.float() - 1) : 0;
  const field = opts.warp ? displacementField(opts.warp, rng) : undefined;
  let window: Window | undefined;
  if (opts.scaleCrop) {
    const share = opts.scaleCrop.minScale + (1 - opts.scaleCrop.minScale) * rng.float();
    const [height, width] = [s[1] * share, s[2] * share];
    window = { top: (s[1] - height) * rng.float(), left: (s[2] - width) * rng.float(), height, width };
  }
  // One resampling for all geometric changes: each would blur the image again.
  if (field || window) img = resample(img, s, geometricMap(s, angle, shear, field, window));
  else if (turn) img = affine(img, s, angle, shear);
  if (opts.crop) {
    const p = opts.crop.padding ?? 0;
    const top = rng.int(s[1] + 2 * p - opts.crop.height + 1) - p;
    const left = rng.int(s[2] + 2 * p - opts.crop.width + 1) - p;
    img = crop(img, s, top, left, opts.crop.height, opts.crop.width);
    s = [s[0], opts.crop.height, opts.crop.width];
  }
  if (opts.mirror && rng.chance(0.5)) img = mirror(img, s);
  if (opts.colorShift) {
    if (img === image) img = img.slice();
    const plane = s[1] * s[2];
    for (let c = 0; c < s[0]; c++) {
      const d = opts.colorShift * (2 * rng.float() - 1);
      for (let i = c * plane; i < (c + 1) * plane; i++) img[i] += d;
    }
  }
  if (opts.pca) {
    if (img === image) img = img.slice();
    const { basis, std } = opts.pca;
    const alpha = [rng.normal() * std, rng.normal() * std, rng.normal() * std];
    const plane = s[1] * s[2];
    for (let c = 0; c < 3; c++) {
      let d = 0;
      for (let k = 0; k < 3; k++) d += alpha[k] * basis.eigenvalues[k] * basis.eigenvectors[k][c];
      for (let i = c * plane; i < (c + 1) * plane; i++) img[i] += d;
    }
  }
  return { image: img === image ? img.slice() : img, shape: s };
}

/** Left-right mirror. */
export function mirror(img: Float32Array, [c, h, w]: ImageShape): Float32Array {
  const out = new Float32Array(img.length);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const row = (ch * h + y) * w;
      for (let x = 0; x < w; x++) out[row + x] = img[row + w - 1 - x];
    }
  }
  return out;
}

/** The window top..top+height, left..left+width; parts outside the image are zero (that is how padding works). */
export function crop(img: Float32Array, [c, h, w]: ImageShape, top: number, left: number, height: number, width: number): Float32Array {
  const out = new Float32Array(c * height * width);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < height; y++) {
      const sy = y + top;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < width; x++) {
        const sx = x + left;
        if (sx >= 0 && sx < w) out[(ch * height + y) * width + x] = img[(ch * h + sy) * w + sx];
      }
    }
  }
  return out;
}

/** Centre pad (with zeros) or crop to height x width: e.g. 28x28 Fashion-MNIST to LeNet-5's 32x32. */
export function fitCenter(img: Float32Array, shape: ImageShape, height: number, width: number): Float32Array {
  const top = Math.floor((shape[1] - height) / 2);
  const left = Math.floor((shape[2] - width) / 2);
  return crop(img, shape, top, left, height, width);
}

/** Rotation by `angle` radians and horizontal shear about the centre, bilinear, zero outside. */
export function affine(img: Float32Array, [c, h, w]: ImageShape, angle: number, shear: number): Float32Array {
  const out = new Float32Array(img.length);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map: output -> source. Forward is shear then rotate, so undo rotation, then shear.
      const dx = x - cx;
      const dy = y - cy;
      const ry = -sin * dx + cos * dy;
      const rx = cos * dx + sin * dy - shear * ry;
      const sx = rx + cx;
      const sy = ry + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < c; ch++) {
        const base = ch * h * w;
        out[base + y * w + x] =
          (pixelOrZero(img, base, h, w, y0, x0) * (1 - fx) + pixelOrZero(img, base, h, w, y0, x0 + 1) * fx) * (1 - fy) +
          (pixelOrZero(img, base, h, w, y0 + 1, x0) * (1 - fx) + pixelOrZero(img, base, h, w, y0 + 1, x0 + 1) * fx) * fy;
      }
    }
  }
  return out;
}

/** Bilinear sample of one channel plane at (sy, sx), zero outside. */
function sampleBilinear(img: Float32Array, base: number, h: number, w: number, sy: number, sx: number): number {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  return (
    (pixelOrZero(img, base, h, w, y0, x0) * (1 - fx) + pixelOrZero(img, base, h, w, y0, x0 + 1) * fx) * (1 - fy) +
    (pixelOrZero(img, base, h, w, y0 + 1, x0) * (1 - fx) + pixelOrZero(img, base, h, w, y0 + 1, x0 + 1) * fx) * fy
  );
}

/** A window of the image (fractional pixels) that a scale crop stretches over the whole output. */
export interface Window {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/** A smooth displacement field over the image: random values at grid x grid nodes, bicubic between. */
export interface DisplacementField {
  readonly grid: number;
  readonly dy: Float32Array;
  readonly dx: Float32Array;
}

/** Catmull-Rom weights of the four nodes around fraction t. */
function cubicWeights(t: number): [number, number, number, number] {
  const t2 = t * t;
  const t3 = t2 * t;
  return [(-t3 + 2 * t2 - t) / 2, (3 * t3 - 5 * t2 + 2) / 2, (-3 * t3 + 4 * t2 + t) / 2, (t3 - t2) / 2];
}

/** The lattice's value at (u, v) in [0, 1]^2 (nodes at the corners and evenly between). */
function latticeAt(nodes: Float32Array, grid: number, u: number, v: number): number {
  const node = (i: number, j: number): number => nodes[Math.min(grid - 1, Math.max(0, i)) * grid + Math.min(grid - 1, Math.max(0, j))]!;
  const gy = Math.min(1, Math.max(0, u)) * (grid - 1);
  const gx = Math.min(1, Math.max(0, v)) * (grid - 1);
  const iy = Math.min(grid - 2, Math.floor(gy));
  const ix = Math.min(grid - 2, Math.floor(gx));
  const wy = cubicWeights(gy - iy);
  const wx = cubicWeights(gx - ix);
  let out = 0;
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) out += wy[a] * wx[b] * node(iy - 1 + a, ix - 1 + b);
  return out;
}

/** A smooth random displacement field: 2 * grid * grid uniform draws in [-magnitude, magnitude] pixels. */
export function displacementField({ magnitude, grid }: { magnitude: number; grid: number }, rng: Rng): DisplacementField {
  const draw = (): Float32Array => {
    const nodes = new Float32Array(grid * grid);
    for (let i = 0; i < nodes.length; i++) nodes[i] = magnitude * (2 * rng.float() - 1);
    return nodes;
  };
  const dy = draw();
  return { grid, dy, dx: draw() };
}

/** Where output pixel (y, x) reads from in the input. */
export type PixelMap = (y: number, x: number) => [number, number];

/**
 * Scale crop, local warp, then rotation and shear, composed: the output stretches the window over
 * the image, each point moves by the field, and the affine map (as `affine`) finds the source.
 */
export function geometricMap([, h, w]: ImageShape, angle: number, shear: number, field?: DisplacementField, window?: Window): PixelMap {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  return (y, x) => {
    let py = window ? window.top + ((y + 0.5) * window.height) / h - 0.5 : y;
    let px = window ? window.left + ((x + 0.5) * window.width) / w - 0.5 : x;
    if (field) {
      const [u, v] = [h > 1 ? py / (h - 1) : 0, w > 1 ? px / (w - 1) : 0];
      [py, px] = [py + latticeAt(field.dy, field.grid, u, v), px + latticeAt(field.dx, field.grid, u, v)];
    }
    const dx = px - cx;
    const dy = py - cy;
    const ry = -sin * dx + cos * dy;
    const rx = cos * dx + sin * dy - shear * ry;
    return [ry + cy, rx + cx];
  };
}

/** Each output pixel takes the input at `map`'s point (bilinear, zero outside). */
export function resample(img: Float32Array, [c, h, w]: ImageShape, map: PixelMap): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sy, sx] = map(y, x);
      for (let ch = 0; ch < c; ch++) out[ch * h * w + y * w + x] = sampleBilinear(img, ch * h * w, h, w, sy, sx);
    }
  }
  return out;
}

function pixelOrZero(img: Float32Array, base: number, h: number, w: number, y: number, x: number): number {
  return y >= 0 && y < h && x >= 0 && x < w ? img[base + y * w + x] : 0;
}

/** Test-time 10-crop: 4 corners and the centre, then the mirror of each (order: TL, TR, BL, BR, C, then mirrored). */
export function tenCrop(img: Float32Array, shape: ImageShape, height: number, width: number): Float32Array[] {
  const [, h, w] = shape;
  if (height > h || width > w) throw new DataError(`10-crop of ${height} x ${width} does not fit in ${h} x ${w}`);
  const corners: [number, number][] = [
    [0, 0],
    [0, w - width],
    [h - height, 0],
    [h - height, w - width],
    [Math.floor((h - height) / 2), Math.floor((w - width) / 2)],
  ];
  const crops = corners.map(([t, l]) => crop(img, shape, t, l, height, width));
  const outShape: ImageShape = [shape[0], height, width];
  return [...crops, ...crops.map((c) => mirror(c, outShape))];
}

/** Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations. */
export function symmetricEigen3(m: number[][]): PcaBasis {
  const a = m.map((r) => [...r]);
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      if (Math.abs(a[p][q]) < 1e-300) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cs = 1 / Math.sqrt(t * t + 1);
      const sn = t * cs;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p];
        const akq = a[k][q];
        a[k][p] = cs * akp - sn * akq;
        a[k][q] = sn * akp + cs * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k];
        const aqk = a[q][k];
        a[p][k] = cs * apk - sn * aqk;
        a[q][k] = sn * apk + cs * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p];
        const vkq = v[k][q];
        v[k][p] = cs * vkp - sn * vkq;
        v[k][q] = sn * vkp + cs * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  return {
    eigenvalues: order.map((i) => a[i][i]) as [number, number, number],
    eigenvectors: order.map((i) => [v[0][i], v[1][i], v[2][i]]) as [number[], number[], number[]],
  };
}

/** RGB covariance of (up to `maxExamples` of) a data set's pixels and its eigen-decomposition. */
export function pcaColorBasis(ds: Dataset, maxExamples = 1000): PcaBasis {
  if (ds.shape[0] !== 3) throw new DataError(`PCA colour augmentation needs 3 channels (RGB), the data set has ${ds.shape[0]}`);
  const n = Math.min(ds.length, maxExamples);
  if (n === 0) throw new DataError('PCA colour basis of an empty data set');
  const plane = ds.shape[1] * ds.shape[2];
  const sum = [0, 0, 0];
  const sq = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let e = 0; e < n; e++) {
    const img = ds.get(e).image;
    for (let i = 0; i < plane; i++) {
      const px = [img[i], img[plane + i], img[2 * plane + i]];
      for (let a = 0; a < 3; a++) {
        sum[a] += px[a];
        for (let b = 0; b < 3; b++) sq[a][b] += px[a] * px[b];
      }
    }
  }
  const count = n * plane;
  const cov = sq.map((row, a) => row.map((s, b) => s / count - (sum[a] / count) * (sum[b] / count)));
  return symmetricEigen3(cov);
}
