// An RGBA canvas for what cnnc draws: scenes, detections, landmarks. Pixels outside are ignored.

import pngjs from 'pngjs';
import type { Rgba } from '../data/image.ts';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.ts';

export type Color = readonly [number, number, number];

export interface Rect {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface LabelledBox extends Rect {
  readonly label: string;
  readonly color: Color;
}

const OUTLINE_EDGE: Color = [20, 20, 20];

function overlaps(a: Rect, b: Rect): boolean {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

/**
 * Where each box's label tab goes: above its top-left corner, else inside the top, below the box,
 * or inside the bottom: the first of those inside the image that covers no tab placed before it
 * (else the first inside the image), so that overlapping boxes keep every label readable.
 */
export function placeLabels(boxes: readonly Rect[], sizes: readonly { width: number; height: number }[], width: number, height: number): Rect[] {
  const placed: Rect[] = [];
  boxes.forEach((b, i) => {
    const { width: w, height: h } = sizes[i]!;
    const left = Math.min(Math.max(b.x1, 0), Math.max(width - w, 0));
    const at = (top: number): Rect => ({ x1: left, y1: top, x2: left + w, y2: top + h });
    const inside = [at(b.y1 - h), at(b.y1), at(b.y2), at(b.y2 - h)].filter((r) => r.y1 >= 0 && r.y2 <= height);
    const fallback = inside[0] ?? at(Math.min(Math.max(b.y1, 0), Math.max(height - h, 0)));
    placed.push(inside.find((r) => placed.every((p) => !overlaps(p, r))) ?? fallback);
  });
  return placed;
}

export class Canvas implements Rgba {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    this.data = data ? Uint8Array.from(data) : new Uint8Array(width * height * 4).fill(255);
  }

  static from(img: Rgba): Canvas {
    return new Canvas(img.width, img.height, img.data);
  }

  /** Blends `color` with opacity `alpha` into pixel (x, y). */
  pixel(x: number, y: number, color: Color, alpha = 1): void {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 4;
    for (let c = 0; c < 3; c++) this.data[o + c] = Math.round(this.data[o + c]! * (1 - alpha) + color[c]! * alpha);
    this.data[o + 3] = 255;
  }

  fillRect(x1: number, y1: number, x2: number, y2: number, color: Color, alpha = 1): void {
    for (let y = Math.max(Math.floor(y1), 0); y < Math.min(Math.ceil(y2), this.height); y++) {
      for (let x = Math.max(Math.floor(x1), 0); x < Math.min(Math.ceil(x2), this.width); x++) this.pixel(x, y, color, alpha);
    }
  }

  /** A rectangle outline `thickness` pixels wide, inside the given corners. */
  strokeRect(x1: number, y1: number, x2: number, y2: number, color: Color, thickness = 1): void {
    const t = thickness;
    this.fillRect(x1, y1, x2, y1 + t, color);
    this.fillRect(x1, y2 - t, x2, y2, color);
    this.fillRect(x1, y1, x1 + t, y2, color);
    this.fillRect(x2 - t, y1, x2, y2, color);
  }

  /** A straight line of square dots (Bresenham-like, by steps of one pixel). */
  line(x1: number, y1: number, x2: number, y2: number, color: Color, thickness = 1): void {
    const steps = Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1), 1);
    for (let i = 0; i <= steps; i++) {
      const x = x1 + ((x2 - x1) * i) / steps;
      const y = y1 + ((y2 - y1) * i) / steps;
      this.fillRect(x - thickness / 2, y - thickness / 2, x + thickness / 2, y + thickness / 2, color);
    }
  }

  /** Text in the bitmap font with its top-left corner at (x, y), each font pixel `scale` pixels. */
  text(x: number, y: number, s: string, color: Color, scale = 1): void {
    [...s].forEach((ch, i) => {
      const rows = glyph(ch);
      const left = x + i * (GLYPH_WIDTH + 1) * scale;
      rows.forEach((bits, r) => {
        for (let c = 0; c < GLYPH_WIDTH; c++) {
          if (bits & (1 << (GLYPH_WIDTH - 1 - c))) this.fillRect(left + c * scale, y + r * scale, left + (c + 1) * scale, y + (r + 1) * scale, color);
        }
      });
    });
  }

  /**
   * Labelled boxes: every outline first, then each label on a filled tab where it hides no
   * earlier label (see placeLabels), in the order given (highest score first).
   */
  labelledBoxes(boxes: readonly LabelledBox[], scale = 1): void {
    for (const b of boxes) {
      // A dark edge around the outline keeps it visible on an object of its own colour.
      this.strokeRect(b.x1 - 1, b.y1 - 1, b.x2 + 1, b.y2 + 1, OUTLINE_EDGE);
      this.strokeRect(b.x1, b.y1, b.x2, b.y2, b.color, Math.max(1, scale));
    }
    const tabs = placeLabels(boxes, boxes.map((b) => ({ width: textWidth(b.label, scale) + 2 * scale, height: (GLYPH_HEIGHT + 2) * scale })), this.width, this.height);
    boxes.forEach((b, i) => {
      const t = tabs[i]!;
      this.fillRect(t.x1, t.y1, t.x2, t.y2, b.color);
      const dark = b.color[0] * 0.299 + b.color[1] * 0.587 + b.color[2] * 0.114 > 140;
      this.text(t.x1 + scale, t.y1 + scale, b.label, dark ? [0, 0, 0] : [255, 255, 255], scale);
    });
  }

  png(): Uint8Array {
    const png = new pngjs.PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data);
    return new Uint8Array(pngjs.PNG.sync.write(png));
  }
}

/** A palette of distinct colours for classes (wraps around). */
export const CLASS_COLORS: readonly Color[] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128],
];
