// Mean average precision of detections against ground truth: PASCAL VOC's AP at IoU 0.5 with
// all-point interpolation (VOC 2010 on), and COCO's AP averaged over IoU 0.5:0.05:0.95 with 101
// recall points. Classes without ground truth have no AP and are left out of the means.

import { iou, type Detection } from './boxes.ts';

/** One image's detections and its ground truth (score ignored). */
export interface ImageResult {
  readonly detections: readonly Detection[];
  readonly truth: readonly Detection[];
}

export interface ApReport {
  /** Per class: AP at IoU 0.5 (VOC) and AP over 0.5:0.95 (COCO); null where the class has no ground truth. */
  readonly perClass: readonly { readonly voc50: number | null; readonly coco: number | null; readonly truths: number }[];
  readonly map50: number;
  readonly mapCoco: number;
}

interface Ranked {
  readonly image: number;
  readonly det: Detection;
}

/** Detections of one class over all images, by decreasing score (stable). */
function ranked(images: readonly ImageResult[], cls: number): Ranked[] {
  const out: Ranked[] = [];
  images.forEach((im, image) => {
    for (const det of im.detections) if (det.classId === cls) out.push({ image, det });
  });
  return out.sort((a, b) => b.det.score - a.det.score);
}

/** VOC 2010+ AP: area under the precision envelope at every recall step. */
export function vocAp(recall: readonly number[], precision: readonly number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i]!, mpre[i + 1]!);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i]! - mrec[i - 1]!) * mpre[i]!;
  return ap;
}

/** COCO AP: the precision envelope sampled at recall 0, 0.01, ..., 1 (0 past the last recall). */
export function cocoAp(recall: readonly number[], precision: readonly number[]): number {
  const env = [...precision];
  for (let i = env.length - 2; i >= 0; i--) env[i] = Math.max(env[i]!, env[i + 1]!);
  let sum = 0;
  for (let k = 0; k <= 100; k++) {
    const r = k / 100;
    const at = recall.findIndex((v) => v >= r - 1e-12);
    sum += at < 0 ? 0 : env[at]!;
  }
  return sum / 101;
}

function curve(tp: readonly boolean[], truths: number): { recall: number[]; precision: number[] } {
  let hits = 0;
  const recall: number[] = [];
  const precision: number[] = [];
  tp.forEach((t, i) => {
    if (t) hits++;
    recall.push(hits / truths);
    precision.push(hits / (i + 1));
  });
  return { recall, precision };
}

/** VOC matching: each detection takes its best-IoU truth; a truth already taken makes it a false positive. */
function vocMatches(images: readonly ImageResult[], list: readonly Ranked[], cls: number): boolean[] {
  const taken = images.map((im) => im.truth.map(() => false));
  return list.map(({ image, det }) => {
    let best = -1;
    let bestIou = -Infinity;
    images[image]!.truth.forEach((t, j) => {
      if (t.classId !== cls) return;
      const v = iou(det, t);
      if (v > bestIou) [best, bestIou] = [j, v];
    });
    if (best < 0 || !(bestIou > 0.5) || taken[image]![best]) return false;
    taken[image]![best] = true;
    return true;
  });
}

/** COCO matching at one threshold: each detection takes the best-IoU truth not yet taken, IoU >= t. */
function cocoMatches(images: readonly ImageResult[], list: readonly Ranked[], cls: number, threshold: number): boolean[] {
  const taken = images.map((im) => im.truth.map(() => false));
  return list.map(({ image, det }) => {
    let best = -1;
    let bestIou = Math.min(threshold, 1 - 1e-10);
    images[image]!.truth.forEach((t, j) => {
      if (t.classId !== cls || taken[image]![j]) return;
      const v = iou(det, t);
      if (v >= bestIou) [best, bestIou] = [j, v];
    });
    if (best < 0) return false;
    taken[image]![best] = true;
    return true;
  });
}

export const COCO_THRESHOLDS = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);

export function meanAveragePrecision(images: readonly ImageResult[], classes: number): ApReport {
  const perClass = Array.from({ length: classes }, (_, cls) => {
    const truths = images.reduce((n, im) => n + im.truth.filter((t) => t.classId === cls).length, 0);
    if (truths === 0) return { voc50: null, coco: null, truths };
    const list = ranked(images, cls);
    const voc = curve(vocMatches(images, list, cls), truths);
    const coco = COCO_THRESHOLDS.map((t) => {
      const c = curve(cocoMatches(images, list, cls, t), truths);
      return cocoAp(c.recall, c.precision);
    });
    return { voc50: vocAp(voc.recall, voc.precision), coco: coco.reduce((a, b) => a + b, 0) / coco.length, truths };
  });
  const mean = (xs: (number | null)[]): number => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length;
  };
  return { perClass, map50: mean(perClass.map((p) => p.voc50)), mapCoco: mean(perClass.map((p) => p.coco)) };
}
