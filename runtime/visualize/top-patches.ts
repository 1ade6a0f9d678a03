// What a hidden unit responds to (Zeiler and Fergus 2014): over a data set, the examples whose
// strongest response anywhere in the unit's feature map is largest, with where it was, and the
// input patch that position sees (its receptive field).

import type { ReceptiveField } from '../../compiler/receptive-field.ts';
import type { ChwImage } from '../images/png.ts';

export interface UnitHit {
  readonly example: number;
  /** Position in the layer's feature map. */
  readonly y: number;
  readonly x: number;
  readonly activation: number;
}

/** Orders hits: larger activation first, then the earlier example (a total, reproducible order). */
export function hitOrder(a: UnitHit, b: UnitHit): number {
  return b.activation - a.activation || a.example - b.example;
}

/**
 * The top `k` examples per unit, one hit per example (its maximum, the first position in row-major
 * order on ties), fed batch by batch.
 */
export class TopPatches {
  private readonly best: UnitHit[][];

  constructor(readonly units: number, readonly k: number) {
    this.best = Array.from({ length: units }, () => []);
  }

  /** `acts` is [count, C, H, W] for examples first .. first + count - 1; only units < this.units are read. */
  add(acts: Float32Array, [count, channels, height, width]: readonly number[], first: number): void {
    const plane = height * width;
    for (let n = 0; n < count; n++) {
      for (let c = 0; c < this.units; c++) {
        const base = (n * channels + c) * plane;
        let at = 0;
        for (let i = 1; i < plane; i++) if (acts[base + i]! > acts[base + at]!) at = i;
        this.offer(c, { example: first + n, y: Math.floor(at / width), x: at % width, activation: acts[base + at]! });
      }
    }
  }

  private offer(unit: number, hit: UnitHit): void {
    const list = this.best[unit]!;
    if (list.length === this.k && hitOrder(hit, list[list.length - 1]!) >= 0) return;
    list.push(hit);
    list.sort(hitOrder);
    if (list.length > this.k) list.pop();
  }

  /** Per unit, its hits from the strongest down. */
  result(): UnitHit[][] {
    return this.best.map((l) => [...l]);
  }
}

/** The input window (top, left, size per axis) that feature-map position (y, x) sees. */
export function patchBox(rf: ReceptiveField, y: number, x: number): { top: number; left: number; height: number; width: number } {
  const [sh, sw] = rf.size as [number, number];
  const centre = (axis: number, i: number): number => rf.start[axis]! + i * rf.stride[axis]!;
  return { top: Math.round(centre(0, y) - sh / 2), left: Math.round(centre(1, x) - sw / 2), height: sh, width: sw };
}

/** The window of a CHW image; what falls outside the image (padding) is `fill`. */
export function cropPatch(img: ChwImage, box: { top: number; left: number; height: number; width: number }, fill = 0.5): ChwImage {
  const { channels, height, width } = img;
  const data = new Float32Array(channels * box.height * box.width).fill(fill);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < box.height; y++) {
      const sy = box.top + y;
      if (sy < 0 || sy >= height) continue;
      for (let x = 0; x < box.width; x++) {
        const sx = box.left + x;
        if (sx >= 0 && sx < width) data[(c * box.height + y) * box.width + x] = img.data[(c * height + sy) * width + sx]!;
      }
    }
  }
  return { data, channels, height: box.height, width: box.width };
}

/** A first-layer convolution's filters [O, C, k, k] as images, each stretched to [0, 1] on its own. */
export function filterImages(weight: Float32Array, [out, channels, kh, kw]: readonly number[], count = out): ChwImage[] {
  const size = channels * kh * kw;
  const images: ChwImage[] = [];
  for (let o = 0; o < Math.min(count, out!); o++) {
    const w = weight.subarray(o * size, (o + 1) * size);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const span = hi - lo || 1;
    images.push({ data: w.map((v) => (v - lo) / span), channels: channels!, height: kh!, width: kw! });
  }
  return images;
}
