// Boxes and IoU. A box is its corners in pixels (or any one unit), x to the right, y down.

/** Corner form: (x1, y1) top left, (x2, y2) bottom right. */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** A box with the class it was given and a score (1 for ground truth). */
export interface Detection extends Box {
  readonly classId: number;
  readonly score: number;
}

export function area(b: Box): number {
  return Math.max(b.x2 - b.x1, 0) * Math.max(b.y2 - b.y1, 0);
}

/**
 * Intersection over union as the course defines it: the intersection's corners are the max of the
 * top-left and the min of the bottom-right corners, its width and height clamp at 0, and the union
 * is area(a) + area(b) - intersection. Two empty boxes give 0 (not NaN).
 */
export function iou(a: Box, b: Box): number {
  const w = Math.max(Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), 0);
  const h = Math.max(Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1), 0);
  const inter = w * h;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** From centre, width and height. */
export function fromCenter(cx: number, cy: number, w: number, h: number): Box {
  return { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 };
}

/** COCO's [x, y, width, height]. */
export function toXywh(b: Box): [number, number, number, number] {
  return [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1];
}

/** IoU of two boxes given only by width and height, placed at one centre (anchor matching, k-means). */
export function shapeIou(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  const union = w1 * h1 + w2 * h2 - inter;
  return union > 0 ? inter / union : 0;
}
