// Lowering of each loss term to a scalar IR node, one row per loss function. Every term is
// averaged over the batch except `l2` (a sum over weights); the model's loss is sum(weight * term).

import type { LossTerm } from '../graph.ts';
import { YAD2K_COCO_ANCHORS } from '../checker/loss.ts';
import { IrError, type GraphBuilder } from '../ir/build.ts';
import { yoloLoss } from './yolo-loss.ts';

export interface LossContext {
  readonly b: GraphBuilder;
  readonly batch: number;
  /** Node of a layer or input by name. */
  value(name: string): number;
  /**
   * The logits a layer was computed from, when the layer is that activation (`softmax`,
   * `sigmoid`): losses fuse with it into their stable logits form.
   */
  logitsOf(name: string, activation: 'softmax' | 'sigmoid'): number | undefined;
  /** The batch's target tensor for this term (labels: [N] class indices as f32). */
  target(term: LossTerm): number;
  /** Trainable weights (role 'weight') for the l2 term. */
  weights(): readonly number[];
}

export type LossLowering = (ctx: LossContext, term: LossTerm) => number;

const allAxes = (b: GraphBuilder, x: number): number[] => b.shape(x).map((_, i) => i);
const sumAll = (b: GraphBuilder, x: number): number => b.reduce('sum', x, allAxes(b, x));
const meanAll = (b: GraphBuilder, x: number): number => b.reduce('mean', x, allAxes(b, x));
/** Sum of everything divided by the batch: a per-example sum, averaged. */
const perExample = (b: GraphBuilder, x: number, batch: number, scale = 1): number => b.affine(sumAll(b, x), scale / batch, 0);
const sq = (b: GraphBuilder, x: number): number => b.unary('square', x);

function arg(ctx: LossContext, term: LossTerm, i: number): number {
  const name = term.args[i];
  if (name === undefined) throw new IrError(`${term.fn}: missing argument ${i + 1}`);
  return ctx.value(name);
}

/** The second operand: a second argument, else the batch's target. */
function reference(ctx: LossContext, term: LossTerm): number {
  return term.args.length >= 2 ? arg(ctx, term, 1) : ctx.target(term);
}

/** Per-example softmax cross-entropy [N] of logits [N, C] against target rows [N, C]. */
function softmaxCe(b: GraphBuilder, logits: number, target: number): number {
  return b.add({ op: 'softmax_cross_entropy' }, [logits, target], [b.shape(logits)[0]!]);
}

/** Probabilities are kept this far from 0 and 1 where a loss cannot fuse with its activation. */
export const PROBABILITY_EPS = 1e-7;

/** log(p) with p clamped to [eps, 1]: a probability of exactly 0 gives a large loss, not -Infinity and NaN. */
function safeLog(b: GraphBuilder, p: number): number {
  return b.unary('log', b.binary('max', p, b.constant(PROBABILITY_EPS, b.shape(p))));
}

/**
 * Logistic loss with logits z and targets t in [0, 1]: t softplus(-z) + (1 - t) softplus(z), which
 * is softplus(z) - z t written so that a confident right answer (z = 20, t = 1, or z = -20, t = 0)
 * is the tiny softplus(-20) = 2e-9 itself rather than a float32 difference of two 20s (0).
 */
function logisticLoss(b: GraphBuilder, z: number, t: number): number {
  const positive = b.binary('mul', t, b.unary('softplus', b.unary('neg', z)));
  const negative = b.binary('mul', b.affine(t, -1, 1), b.unary('softplus', z));
  return b.binary('add', positive, negative);
}

function gram(b: GraphBuilder, a: number): number {
  const s = b.shape(a);
  const flat = b.reshape(a, [s[0]!, s[1]!, s.slice(2).reduce((p, d) => p * d, 1)]);
  return b.matmul(flat, flat, false, true);
}

export const LOSS_LOWERING: Readonly<Record<string, LossLowering>> = {
  cross_entropy: (ctx, term) => {
    const b = ctx.b;
    const probs = arg(ctx, term, 0);
    const classes = b.shape(probs)[1]!;
    const onehot = b.add({ op: 'one_hot', classes }, [ctx.target(term)], b.shape(probs));
    const logits = ctx.logitsOf(term.args[0]!, 'softmax');
    if (logits !== undefined) return meanAll(b, softmaxCe(b, logits, onehot));
    // Probabilities from elsewhere: -sum t log p per example.
    return perExample(b, b.binary('mul', onehot, safeLog(b, probs)), ctx.batch, -1);
  },
  binary_cross_entropy: (ctx, term) => {
    const b = ctx.b;
    const t = ctx.target(term);
    // After a sigmoid, the logits form: exact where sigmoid saturates (logit 20, target 1: 2e-9, not NaN).
    const logits = ctx.logitsOf(term.args[0]!, 'sigmoid');
    if (logits !== undefined) return meanAll(b, logisticLoss(b, logits, t));
    const p = arg(ctx, term, 0);
    const pos = b.binary('mul', t, safeLog(b, p));
    const neg = b.binary('mul', b.affine(t, -1, 1), safeLog(b, b.affine(p, -1, 1)));
    return b.affine(meanAll(b, b.binary('add', pos, neg)), -1, 0);
  },
  mse: (ctx, term) => meanAll(ctx.b, sq(ctx.b, ctx.b.binary('sub', arg(ctx, term, 0), reference(ctx, term)))),
  localization: (ctx, term) => {
    // y = [pc, bx, by, bh, bw, c1..cn] raw outputs (logits for pc and the classes);
    // loss = logistic(pc) + pc_true * (sum of squared box errors + softmax CE of the classes).
    const b = ctx.b;
    const y = arg(ctx, term, 0);
    const t = ctx.target(term);
    const [n, f] = [b.shape(y)[0]!, b.shape(y)[1]!];
    const part = (x: number, start: number, len: number): number => b.slice(x, [0, start], [n, len]);
    const pcTrue = part(t, 0, 1);
    const obj = logisticLoss(b, part(y, 0, 1), pcTrue);
    const box = b.reduce('sum', sq(b, b.binary('sub', part(y, 1, 4), part(t, 1, 4))), [1]);
    const cls = softmaxCe(b, part(y, 5, f - 5), part(t, 5, f - 5));
    const masked = b.binary('mul', b.reshape(pcTrue, [n]), b.binary('add', box, cls));
    return perExample(b, b.binary('add', b.reshape(obj, [n]), masked), n);
  },
  yolo: (ctx, term) => yoloLoss(ctx.b, arg(ctx, term, 0), ctx.target(term), term.lists?.anchors ?? YAD2K_COCO_ANCHORS),
  triplet: (ctx, term) => {
    const b = ctx.b;
    const [a, p, nn] = [arg(ctx, term, 0), arg(ctx, term, 1), arg(ctx, term, 2)];
    const dist = (u: number, v: number): number => b.reduce('sum', sq(b, b.binary('sub', u, v)), [1]);
    const alpha = term.options.alpha ?? 0.2;
    return meanAll(b, b.unary('relu', b.affine(b.binary('sub', dist(a, p), dist(a, nn)), 1, alpha)));
  },
  content: (ctx, term) => {
    const b = ctx.b;
    const g = arg(ctx, term, 0);
    const s = b.shape(g);
    const perImage = s.slice(1).reduce((p, d) => p * d, 1);
    return perExample(b, sq(b, b.binary('sub', reference(ctx, term), g)), ctx.batch, 1 / (4 * perImage));
  },
  style: (ctx, term) => {
    const b = ctx.b;
    const g = arg(ctx, term, 0);
    const s = b.shape(g);
    const c = s[1]!;
    const hw = s.slice(2).reduce((p, d) => p * d, 1);
    const gg = gram(b, g);
    // A target Gram matrix comes per example, [N, C, C].
    const gs = term.args.length >= 2 ? gram(b, arg(ctx, term, 1)) : ctx.target(term);
    return perExample(b, sq(b, b.binary('sub', gs, gg)), ctx.batch, 1 / (4 * c * c * hw * hw));
  },
  total_variation: (ctx, term) => {
    const b = ctx.b;
    const x = arg(ctx, term, 0);
    const s = b.shape(x);
    let total: number | undefined;
    for (let axis = 2; axis < s.length; axis++) {
      if (s[axis]! < 2) continue;
      const size = s.map((d, i) => (i === axis ? d - 1 : d));
      const lo = b.slice(x, s.map(() => 0), size);
      const hi = b.slice(x, s.map((_, i) => (i === axis ? 1 : 0)), size);
      const term2 = sumAll(b, sq(b, b.binary('sub', hi, lo)));
      total = total === undefined ? term2 : b.binary('add', total, term2);
    }
    return b.affine(total ?? b.constant(0, []), 1 / ctx.batch, 0);
  },
  l2: (ctx) => {
    const b = ctx.b;
    const ws = ctx.weights();
    if (ws.length === 0) return b.constant(0, []);
    return ws.map((w) => sumAll(b, sq(b, w))).reduce((acc, v) => b.binary('add', acc, v));
  },
};
