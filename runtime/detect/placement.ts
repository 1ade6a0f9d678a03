// How an image of any size becomes the network's H x W input, and back: plain resizing (each axis
// scaled on its own) or letterboxing (one scale, centred, grey bars), so that boxes found in the
// network's input map back to pixels of the original image.

import type { Rgba } from '../data/image.ts';
import type { Box } from './boxes.ts';

export type FitMode = 'resize' | 'letterbox';

export interface Placement {
  readonly mode: FitMode;
  /** The original image. */
  readonly width: number;
  readonly height: number;
  /** The network's input. */
  readonly netWidth: number;
  readonly netHeight: number;
}

/** Scales and offsets: net = source * scale + offset, per axis. */
function transform(p: Placement): { sx: number; sy: number; ox: number; oy: number } {
  if (p.mode === 'resize') return { sx: p.netWidth / p.width, sy: p.netHeight / p.height, ox: 0, oy: 0 };
  const s = Math.min(p.netWidth / p.width, p.netHeight / p.height);
  return { sx: s, sy: s, ox: (p.netWidth - p.width * s) / 2, oy: (p.netHeight - p.height * s) / 2 };
}

/** A box in the network input's pixels to the original image's pixels, clipped to the image. */
export function toImage(b: Box, p: Placement): Box {
  const t = transform(p);
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  return {
    x1: clip((b.x1 - t.ox) / t.sx, p.width),
    y1: clip((b.y1 - t.oy) / t.sy, p.height),
    x2: clip((b.x2 - t.ox) / t.sx, p.width),
    y2: clip((b.y2 - t.oy) / t.sy, p.height),
  };
}

/** A box in the original image's pixels to the network input's pixels. */
export function toNetwork(b: Box, p: Placement): Box {
  const t = transform(p);
  return { x1: b.x1 * t.sx + t.ox, y1: b.y1 * t.sy + t.oy, x2: b.x2 * t.sx + t.ox, y2: b.y2 * t.sy + t.oy };
}

/**
 * The image as the network's input: CHW floats in [0, 1], RGB (or luma for 1 channel), bilinear;
 * letterbox bars are 0.5 grey.
 */
export function placeImage(img: Rgba, p: Placement, channels: 1 | 3): Float32Array {
  const t = transform(p);
  const plane = p.netWidth * p.netHeight;
  const out = new Float32Array(channels * plane).fill(0.5);
  const px = new Float32Array(3);
  for (let y = 0; y < p.netHeight; y++) {
    const sy = (y + 0.5 - t.oy) / t.sy - 0.5;
    if (sy < -0.5 || sy > img.height - 0.5) continue;
    for (let x = 0; x < p.netWidth; x++) {
      const sx = (x + 0.5 - t.ox) / t.sx - 0.5;
      if (sx < -0.5 || sx > img.width - 0.5) continue;
      sample(img, sx, sy, px);
      const at = y * p.netWidth + x;
      if (channels === 1) out[at] = 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!;
      else for (let c = 0; c < 3; c++) out[c * plane + at] = px[c]!;
    }
  }
  return out;
}

/** Bilinear RGB at (sx, sy) (pixel centres at integers), clamped at the edges, in [0, 1]. */
function sample(img: Rgba, sx: number, sy: number, out: Float32Array): void {
  const cx = Math.min(Math.max(sx, 0), img.width - 1);
  const cy = Math.min(Math.max(sy, 0), img.height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, img.width - 1);
  const y1 = Math.min(y0 + 1, img.height - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    const a = d[(y0 * img.width + x0) * 4 + c]!;
    const b = d[(y0 * img.width + x1) * 4 + c]!;
    const e = d[(y1 * img.width + x0) * 4 + c]!;
    const f = d[(y1 * img.width + x1) * 4 + c]!;
    out[c] = ((a * (1 - fx) + b * fx) * (1 - fy) + (e * (1 - fx) + f * fx) * fy) / 255;
  }
}
