// Anchor shapes by k-means over the training boxes' widths and heights with distance 1 - IoU
// (YOLOv2, section "Dimension clusters"): boxes are compared by shape only, centred on each other.

import { Rng } from '../data/random.ts';
import { shapeIou } from './boxes.ts';

export interface Shape2 {
  readonly w: number;
  readonly h: number;
}

export interface AnchorResult {
  /** By increasing area. */
  readonly anchors: readonly Shape2[];
  /** Mean over boxes of the best IoU with an anchor. */
  readonly meanIou: number;
  readonly iterations: number;
}

function bestIou(box: Shape2, anchors: readonly Shape2[]): { index: number; iou: number } {
  let index = 0;
  let best = -1;
  anchors.forEach((a, i) => {
    const v = shapeIou(box.w, box.h, a.w, a.h);
    if (v > best) [index, best] = [i, v];
  });
  return { index, iou: best };
}

export function meanBestIou(boxes: readonly Shape2[], anchors: readonly Shape2[]): number {
  return boxes.reduce((s, b) => s + bestIou(b, anchors).iou, 0) / boxes.length;
}

/**
 * k clusters, seeded by k-means++ (each next seed drawn with probability proportional to its
 * distance to the nearest seed), then Lloyd iterations with the mean width and height as centre
 * until the assignment stops changing. Deterministic for a given seed.
 */
export function kmeansAnchors(boxes: readonly Shape2[], k: number, seed = 1, maxIterations = 300): AnchorResult {
  if (boxes.length < k) throw new Error(`k-means needs at least k = ${k} boxes, got ${boxes.length}`);
  const rng = Rng.seeded(seed);
  let centres: Shape2[] = [boxes[Math.floor(rng.float() * boxes.length)]!];
  while (centres.length < k) {
    const d = boxes.map((b) => 1 - bestIou(b, centres).iou);
    const total = d.reduce((a, b) => a + b, 0);
    let r = rng.float() * total;
    let pick = boxes.length - 1;
    for (let i = 0; i < d.length; i++) {
      r -= d[i]!;
      if (r <= 0 && d[i]! > 0) {
        pick = i;
        break;
      }
    }
    centres.push(boxes[pick]!);
  }
  let assign = new Int32Array(boxes.length).fill(-1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const next = Int32Array.from(boxes, (b) => bestIou(b, centres).index);
    if (next.every((v, i) => v === assign[i])) break;
    assign = next;
    centres = centres.map((c, j) => {
      const members = boxes.filter((_, i) => assign[i] === j);
      if (members.length === 0) return c;
      return { w: members.reduce((s, b) => s + b.w, 0) / members.length, h: members.reduce((s, b) => s + b.h, 0) / members.length };
    });
  }
  const anchors = [...centres].sort((a, b) => a.w * a.h - b.w * b.h);
  return { anchors, meanIou: meanBestIou(boxes, anchors), iterations };
}
