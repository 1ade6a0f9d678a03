// Ground-truth boxes to the YOLO loss's target tensor: each box goes to the grid cell of its centre
// and to the anchor whose shape matches it best by IoU (YAD2K's preprocess_true_boxes).

import { shapeIou } from './boxes.ts';
import type { NormBox } from './annotations.ts';
import type { YoloHead } from './decode.ts';

export interface EncodedTargets {
  /** [A(5 + C), H, W]: per anchor [mask, x - col, y - row, log(w / anchor w), log(h / anchor h), one-hot class]. */
  readonly target: Float32Array;
  /** Boxes dropped because an earlier box already took their cell and anchor. */
  readonly collisions: number;
}

/** The anchor whose shape (in grid cells) best matches w x h by IoU. */
export function bestAnchor(w: number, h: number, anchors: readonly number[]): number {
  let best = 0;
  let bestIou = -1;
  for (let a = 0; a < anchors.length / 2; a++) {
    const v = shapeIou(w, h, anchors[2 * a]!, anchors[2 * a + 1]!);
    if (v > bestIou) [best, bestIou] = [a, v];
  }
  return best;
}

export function encodeTargets(boxes: readonly NormBox[], head: YoloHead, grid: { height: number; width: number }): EncodedTargets {
  const { height: gh, width: gw } = grid;
  const per = 5 + head.classes;
  const plane = gh * gw;
  const target = new Float32Array((head.anchors.length / 2) * per * plane);
  let collisions = 0;
  for (const b of boxes) {
    const x = b.cx * gw;
    const y = b.cy * gh;
    const col = Math.min(Math.floor(x), gw - 1);
    const row = Math.min(Math.floor(y), gh - 1);
    const w = b.w * gw;
    const h = b.h * gh;
    const a = bestAnchor(w, h, head.anchors);
    const at = (k: number): number => (a * per + k) * plane + row * gw + col;
    if (target[at(0)] === 1) {
      collisions++;
      continue;
    }
    target[at(0)] = 1;
    target[at(1)] = x - col;
    target[at(2)] = y - row;
    target[at(3)] = Math.log(w / head.anchors[2 * a]!);
    target[at(4)] = Math.log(h / head.anchors[2 * a + 1]!);
    target[at(5 + b.classId)] = 1;
  }
  return { target, collisions };
}
