// Loss terms: which tensors each reads, the shapes it accepts, and the target it needs per batch.
// A loss expression is a weighted sum, `0.3 * cross_entropy(aux1) + alpha * content(a, b)`.

import { messages, type Message } from '../../grammar/diagnostics.ts';
import type { LossTerm, Shape } from '../graph.ts';
import type { Span } from '../../grammar/span.ts';
import { type TensorValue } from './values.ts';

export interface LossCheck {
  readonly args: readonly TensorValue[];
  readonly options: Readonly<Record<string, number>>;
  readonly lists: Readonly<Record<string, readonly number[]>>;
  /** Reports a shape error at the term; returns false. */
  fail(m: Message): false;
}

export interface LossSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly options: Readonly<Record<string, number>>;
  /** Options that take a list of numbers (`anchors 1 x 1.5 x 2.5 x 1.2`), with their defaults. */
  readonly lists?: Readonly<Record<string, readonly number[]>>;
  readonly signature: string;
  readonly doc: string;
  /** Checks shapes; returns the per-batch target the term needs (undefined: none), or false. */
  check(c: LossCheck): LossTerm['target'] | false | undefined;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function allSameShape(c: LossCheck, what: string): boolean {
  const [first, ...rest] = c.args;
  for (const other of rest) {
    if (!sameShape(first.shape, other.shape)) {
      return c.fail(messages.lossShape.sameShape({ loss: what, first, other }));
    }
  }
  return true;
}

function rankIs(c: LossCheck, rank: number, what: string, layout: string): boolean {
  for (const a of c.args) {
    if (a.shape.length !== rank) return c.fail(messages.lossShape.rank({ loss: what, layout, got: a }));
  }
  return true;
}

/** YAD2K's yolo_anchors.txt (YOLOv2 on COCO), width x height in cells of the 19 x 19 grid. */
export const YAD2K_COCO_ANCHORS: readonly number[] = [0.57273, 0.677385, 1.87446, 2.06253, 3.33843, 5.47434, 7.88282, 3.52778, 9.77052, 9.16828];

export const LOSSES: Readonly<Record<string, LossSpec>> = {
  cross_entropy: {
    minArgs: 1,
    maxArgs: 1,
    options: {},
    signature: 'cross_entropy(probabilities)',
    doc: 'Softmax cross-entropy against a class index per example. Applied to a softmax layer, it is computed from that layer\'s logits, fused and stable.',
    check(c) {
      if (!rankIs(c, 1, 'cross_entropy', 'a vector of class scores')) return false;
      return { name: 'labels', shape: [], dtype: 'i32' };
    },
  },
  binary_cross_entropy: {
    minArgs: 1,
    maxArgs: 1,
    options: {},
    signature: 'binary_cross_entropy(probabilities)',
    doc: '-(y log p + (1 - y) log(1 - p)), averaged; targets are 0/1 of the same shape.',
    check(c) {
      return { name: 'targets', shape: c.args[0].shape, dtype: 'f32' };
    },
  },
  mse: {
    minArgs: 1,
    maxArgs: 2,
    options: {},
    signature: 'mse(prediction[, reference])',
    doc: 'Mean squared error against a target of the same shape, or between two tensors.',
    check(c) {
      if (c.args.length === 2) return allSameShape(c, 'mse') ? undefined : false;
      return { name: 'targets', shape: c.args[0].shape, dtype: 'f32' };
    },
  },
  localization: {
    minArgs: 1,
    maxArgs: 1,
    options: { classes: 0 },
    signature: 'localization(y, classes n)',
    doc: 'Classification with localization: y = [pc, bx, by, bh, bw, c1..cn]; logistic loss on pc, squared error on the box and log-likelihood on the classes, the latter two only where pc = 1.',
    check(c) {
      if (!rankIs(c, 1, 'localization', 'a vector [pc, bx, by, bh, bw, classes...]')) return false;
      const n = c.args[0].shape[0];
      const classes = c.options.classes || n - 5;
      if (classes < 1 || n !== 5 + classes) return c.fail(messages.lossShape.localization({ classes, got: n, from: c.args[0].name }));
      return { name: 'targets', shape: [n], dtype: 'f32' };
    },
  },
  yolo: {
    minArgs: 1,
    maxArgs: 1,
    options: { classes: 80 },
    lists: { anchors: YAD2K_COCO_ANCHORS },
    signature: 'yolo(grid, classes 80, anchors w1 x h1 x w2 x h2 ...)',
    doc: 'YOLOv2 loss as YAD2K trains it: per grid cell and anchor, sigmoid(tx, ty) + cell offset, exp(tw, th) x anchor (anchor sizes in grid cells), sigmoid objectness, softmax classes; object scale 5, no-object 1 (not charged where the predicted box overlaps a true box by IoU > 0.6), class 1, coordinates 1; halved, summed, averaged over the batch. Targets per anchor: [mask, x - col, y - row, log(w / anchor w), log(h / anchor h), one-hot class].',
    check(c) {
      if (!rankIs(c, 3, 'yolo', 'S x S x anchors*(5 + classes)')) return false;
      const anchors = c.lists.anchors ?? [];
      if (anchors.length === 0 || anchors.length % 2 !== 0 || anchors.some((v) => !(v > 0))) {
        return c.fail(messages.lossShape.yoloAnchors({ anchors }));
      }
      const count = anchors.length / 2;
      const per = count * (5 + c.options.classes);
      const got = c.args[0].shape[2];
      if (got !== per) {
        return c.fail(messages.lossShape.yoloChannels({ anchors: count, classes: c.options.classes, got, from: c.args[0].name }));
      }
      return { name: 'targets', shape: c.args[0].shape, dtype: 'f32' };
    },
  },
  triplet: {
    minArgs: 3,
    maxArgs: 3,
    options: { alpha: 0.2 },
    signature: 'triplet(anchor, positive, negative, alpha 0.2)',
    doc: 'max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0), averaged over the batch.',
    check(c) {
      if (!rankIs(c, 1, 'triplet', 'embedding vectors') || !allSameShape(c, 'triplet')) return false;
      return undefined;
    },
  },
  content: {
    minArgs: 1,
    maxArgs: 2,
    options: {},
    signature: 'content(generated[, content])',
    doc: 'Style transfer content cost 1/(4 nH nW nC) sum (a_C - a_G)^2, against a second tensor or a target activation.',
    check(c) {
      if (!rankIs(c, 3, 'content', 'H x W x C activations')) return false;
      if (c.args.length === 2) return allSameShape(c, 'content') ? undefined : false;
      return { name: 'content_target', shape: c.args[0].shape, dtype: 'f32' };
    },
  },
  style: {
    minArgs: 1,
    maxArgs: 2,
    options: {},
    signature: 'style(generated[, style])',
    doc: 'Style cost of one layer: 1/(4 nC^2 (nH nW)^2) sum (G_S - G_G)^2 over Gram matrices, against a second tensor or a target Gram matrix.',
    check(c) {
      if (!rankIs(c, 3, 'style', 'H x W x C activations')) return false;
      if (c.args.length === 2) return allSameShape(c, 'style') ? undefined : false;
      const ch = c.args[0].shape[2];
      return { name: 'style_target', shape: [ch, ch], dtype: 'f32' };
    },
  },
  total_variation: {
    minArgs: 1,
    maxArgs: 1,
    options: {},
    signature: 'total_variation(image)',
    doc: 'Sum of squared differences between neighbouring pixels: smooths a generated image.',
    check(c) {
      return rankIs(c, 3, 'total_variation', 'an H x W x C image') ? undefined : false;
    },
  },
  l2: {
    minArgs: 0,
    maxArgs: 0,
    options: {},
    signature: 'l2',
    doc: 'L2 weight decay: the sum of squares of every trainable weight (not biases or batchnorm).',
    check() {
      return undefined;
    },
  },
};

export interface PendingLossTerm {
  readonly fn: string;
  readonly weight: number;
  readonly args: readonly TensorValue[];
  readonly options: Readonly<Record<string, number>>;
  readonly lists?: Readonly<Record<string, readonly number[]>>;
  readonly span: Span;
}
