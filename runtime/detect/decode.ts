// From a YOLO grid output to scored boxes in the original image's pixels: the course's yolo_eval
// (yolo_boxes_to_corners, yolo_filter_boxes, scale_boxes, non-max suppression).

import { fromCenter, type Detection } from './boxes.ts';
import { nms } from './nms.ts';
import { toImage, type Placement } from './placement.ts';

export interface YoloHead {
  /** Anchor sizes w1, h1, w2, h2, ... in grid cells. */
  readonly anchors: readonly number[];
  readonly classes: number;
}

export interface FilterOptions {
  /** Keep boxes whose score (objectness x class probability) is at least this. */
  readonly score: number;
  /** Non-max suppression IoU threshold. */
  readonly iou: number;
  /** At most this many boxes per image. */
  readonly max: number;
  readonly classAgnostic?: boolean;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/**
 * Every cell and anchor of one image's output [A(5 + C), H, W] (per anchor [to, tx, ty, tw, th,
 * class logits]) as a box in network-input pixels, with the best class and score = sigmoid(to) x
 * softmax(classes)[best]; boxes scoring below `minScore` are dropped.
 */
export function yoloBoxes(out: Float32Array, shape: readonly [number, number, number], head: YoloHead, net: { width: number; height: number }, minScore: number): Detection[] {
  const [ch, h, w] = shape;
  const count = head.anchors.length / 2;
  const per = 5 + head.classes;
  if (ch !== count * per) throw new Error(`yolo output has ${ch} channels; ${count} anchors x (5 + ${head.classes}) = ${count * per} expected`);
  const plane = h * w;
  const dets: Detection[] = [];
  const probs = new Float64Array(head.classes);
  for (let a = 0; a < count; a++) {
    const at = (k: number, cell: number): number => out[(a * per + k) * plane + cell]!;
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const cell = row * w + col;
        let mx = -Infinity;
        for (let c = 0; c < head.classes; c++) mx = Math.max(mx, at(5 + c, cell));
        let sum = 0;
        for (let c = 0; c < head.classes; c++) sum += probs[c] = Math.exp(at(5 + c, cell) - mx);
        let best = 0;
        for (let c = 1; c < head.classes; c++) if (probs[c]! > probs[best]!) best = c;
        const score = sigmoid(at(0, cell)) * (probs[best]! / sum);
        if (score < minScore) continue;
        const cx = ((sigmoid(at(1, cell)) + col) / w) * net.width;
        const cy = ((sigmoid(at(2, cell)) + row) / h) * net.height;
        const bw = ((Math.exp(at(3, cell)) * head.anchors[2 * a]!) / w) * net.width;
        const bh = ((Math.exp(at(4, cell)) * head.anchors[2 * a + 1]!) / h) * net.height;
        dets.push({ ...fromCenter(cx, cy, bw, bh), classId: best, score });
      }
    }
  }
  return dets;
}

/** Score threshold, non-max suppression and the maximum count, then back to the image's pixels. */
export function filterDetections(dets: readonly Detection[], placement: Placement, options: FilterOptions): Detection[] {
  const passing = dets.filter((d) => d.score >= options.score);
  const kept = nms(passing, { iou: options.iou, max: options.max, classAgnostic: options.classAgnostic ?? false });
  return kept.map((i) => {
    const d = passing[i]!;
    return { ...toImage(d, placement), classId: d.classId, score: d.score };
  });
}

/** The course's yolo_eval: decode one image's output, filter, suppress, scale to the image. */
export function decodeYolo(out: Float32Array, shape: readonly [number, number, number], head: YoloHead, placement: Placement, options: FilterOptions): Detection[] {
  return filterDetections(yoloBoxes(out, shape, head, { width: placement.netWidth, height: placement.netHeight }, options.score), placement, options);
}
