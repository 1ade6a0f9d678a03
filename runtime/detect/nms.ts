// Non-max suppression: greedy, highest score first, as torchvision's nms and batched_nms.

import { iou, type Detection } from './boxes.ts';

export interface NmsOptions {
  /** A box is dropped when its IoU with a kept box of higher score exceeds this. */
  readonly iou: number;
  /** Suppress across classes too (the course's yolo_non_max_suppression); default per class. */
  readonly classAgnostic?: boolean;
  /** Keep at most this many (after suppression, highest scores first). */
  readonly max?: number;
}

/** Indices of the kept detections, by decreasing score (ties: the earlier index first). */
export function nms(dets: readonly Detection[], options: NmsOptions): number[] {
  const order = dets.map((_, i) => i).sort((a, b) => dets[b]!.score - dets[a]!.score || a - b);
  const kept: number[] = [];
  const max = options.max ?? Infinity;
  for (const i of order) {
    if (kept.length >= max) break;
    const d = dets[i]!;
    const suppressed = kept.some((k) => (options.classAgnostic || dets[k]!.classId === d.classId) && iou(dets[k]!, d) > options.iou);
    if (!suppressed) kept.push(i);
  }
  return kept;
}
