// The YOLOv2 loss as YAD2K's yolo_loss defines it (the course's car-detection assignment), built
// from IR ops so that its gradient, CPU kernels and WGSL come from the ops' own rules.
//
// Output y [N, A(5 + C), H, W] holds per anchor [to, tx, ty, tw, th, c1..cC]; the target has the
// same layout with [detector mask, x - col, y - row, log(w / anchor w), log(h / anchor h), one-hot
// class] (box units: grid cells). Predictions: xy = sigmoid(txy) + cell, wh = exp(twh) * anchor,
// confidence = sigmoid(to), class probabilities = softmax. With the scales object 5, no-object 1,
// class 1, coordinates 1:
//   loss = 0.5 * sum(5 mask (1 - conf)^2 + (1 - seen)(1 - mask) conf^2
//                    + mask sum_c (onehot - p)^2 + mask |(sigmoid(txy), twh) - target box|^2) / N
// where seen = 1 where the predicted box overlaps some true box of its image by IoU > 0.6. The
// true boxes are the target's assigned entries, so `seen` compares every prediction with every
// assigned entry (H W A squared pairs per image); it is a comparison, so no gradient flows there.

import type { GraphBuilder } from '../ir/build.ts';
import { IrError } from '../ir/build.ts';

const OBJECT_SCALE = 5;
const NO_OBJECT_SCALE = 1;
const CLASS_SCALE = 1;
const COORD_SCALE = 1;
const IGNORE_IOU = 0.6;

/** A vector [values.length] of compile-time constants. */
function constants(b: GraphBuilder, values: readonly number[]): number {
  const parts = values.map((v) => b.constant(v, [1]));
  return parts.length === 1 ? parts[0]! : b.concat(parts, 0);
}

interface Boxes {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly area: number;
}

/** Corners and areas [N, M] of centre-form boxes given as [N, A, 1, G] tensors. */
function corners(b: GraphBuilder, cx: number, cy: number, w: number, h: number, flat: readonly number[]): Boxes {
  const half = (v: number): number => b.affine(v, 0.5);
  const r = (v: number): number => b.reshape(v, flat);
  return {
    x1: r(b.binary('sub', cx, half(w))),
    y1: r(b.binary('sub', cy, half(h))),
    x2: r(b.binary('add', cx, half(w))),
    y2: r(b.binary('add', cy, half(h))),
    area: r(b.binary('mul', w, h)),
  };
}

/** 1 where a predicted box overlaps some true box (weighted by `valid`) by IoU > IGNORE_IOU, [N, M]. */
function overlapsTruth(b: GraphBuilder, pred: Boxes, truth: Boxes, valid: number, n: number, m: number): number {
  const pairs = [n, m, m];
  const p = (v: number): number => b.expand(v, [2], pairs);
  const t = (v: number): number => b.expand(v, [1], pairs);
  const side = (lo1: number, hi1: number, lo2: number, hi2: number): number =>
    b.unary('relu', b.binary('sub', b.binary('min', p(hi1), t(hi2)), b.binary('max', p(lo1), t(lo2))));
  const inter = b.binary('mul', side(pred.x1, pred.x2, truth.x1, truth.x2), side(pred.y1, pred.y2, truth.y1, truth.y2));
  const union = b.binary('sub', b.binary('add', p(pred.area), t(truth.area)), inter);
  const iou = b.binary('mul', b.binary('div', inter, union), t(valid));
  const above = b.unary('step', b.affine(iou, 1, -IGNORE_IOU));
  return b.unary('step', b.reduce('sum', above, [2]));
}

/** The scalar loss of output `y` against target `t` (both [N, A(5 + C), H, W]). */
export function yoloLoss(b: GraphBuilder, y: number, t: number, anchors: readonly number[]): number {
  const s = b.shape(y);
  const count = anchors.length / 2;
  if (s.length !== 4 || !Number.isInteger(count) || count < 1 || s[1]! % count !== 0 || s[1]! / count < 6) {
    throw new IrError(`yolo: output [${s.join(', ')}] for ${anchors.length / 2} anchors`);
  }
  const [n, h, w] = [s[0]!, s[2]!, s[3]!];
  const per = s[1]! / count;
  const classes = per - 5;
  const g = h * w;
  const m = count * g;
  const grid = [n, count, per, g];
  const ys = b.reshape(y, grid);
  const ts = b.reshape(t, grid);
  const part = (x: number, start: number, len: number): number => b.slice(x, [0, 0, start, 0], [n, count, len, g]);
  const one = [n, count, 1, g];
  const spread = (v: number, len: number): number => b.expand(b.reshape(v, [n, count, g]), [2], [n, count, len, g]);
  const sumAll = (v: number): number => b.reduce('sum', v, b.shape(v).map((_, i) => i));
  const sq = (v: number): number => b.unary('square', v);

  const conf = b.unary('sigmoid', part(ys, 0, 1));
  const txy = b.unary('sigmoid', part(ys, 1, 2));
  const twh = part(ys, 3, 2);
  const probs = b.add({ op: 'softmax', axis: 2 }, [part(ys, 5, classes)], [n, count, classes, g]);
  const mask = part(ts, 0, 1);

  // Cell offsets and anchor sizes broadcast to [N, A, 1, G].
  const cellGrid = [n, count, 1, h, w];
  const col = b.reshape(b.expand(constants(b, Array.from({ length: w }, (_, i) => i)), [0, 1, 2, 3], cellGrid), one);
  const row = b.reshape(b.expand(constants(b, Array.from({ length: h }, (_, i) => i)), [0, 1, 2, 4], cellGrid), one);
  const anchorSide = (k: 0 | 1): number => b.expand(constants(b, anchors.filter((_, i) => i % 2 === k)), [0, 2, 3], one);
  const [aw, ah] = [anchorSide(0), anchorSide(1)];
  const box = (xy: number, wh: number): Boxes =>
    corners(
      b,
      b.binary('add', b.slice(xy, [0, 0, 0, 0], one), col),
      b.binary('add', b.slice(xy, [0, 0, 1, 0], one), row),
      b.binary('mul', b.unary('exp', b.slice(wh, [0, 0, 0, 0], one)), aw),
      b.binary('mul', b.unary('exp', b.slice(wh, [0, 0, 1, 0], one)), ah),
      [n, m],
    );
  const seen = b.reshape(overlapsTruth(b, box(txy, twh), box(part(ts, 1, 2), part(ts, 3, 2)), b.reshape(mask, [n, m]), n, m), one);

  const notMask = b.affine(mask, -1, 1);
  const noObject = b.binary('mul', b.binary('mul', b.affine(seen, -1, 1), notMask), sq(conf));
  const object = b.binary('mul', mask, sq(b.affine(conf, -1, 1)));
  const confidence = b.axpby(OBJECT_SCALE, object, NO_OBJECT_SCALE, noObject);
  const cls = b.binary('mul', spread(mask, classes), sq(b.binary('sub', part(ts, 5, classes), probs)));
  const coordErr = b.binary('add', sq(b.binary('sub', txy, part(ts, 1, 2))), sq(b.binary('sub', twh, part(ts, 3, 2))));
  const coords = b.binary('mul', spread(mask, 2), coordErr);
  const total = b.binary('add', sumAll(confidence), b.axpby(CLASS_SCALE, sumAll(cls), COORD_SCALE, sumAll(coords)));
  return b.affine(total, 0.5 / n);
}
