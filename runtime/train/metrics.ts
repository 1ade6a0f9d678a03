// The metrics that fit each loss, measured on the host from a step's outputs and targets:
// accuracy for cross-entropy, binary accuracy for binary cross-entropy, MSE and MAE for a
// regression target, the fraction of triplets ordered right for the triplet loss, whether an
// object is present for localization, and whether YOLO's most confident cell holds an object. Each is a sum and a count, so batches add up exactly.

import type { LossTerm, ModelGraph } from '../../compiler/graph.ts';
import { argmax } from './argmax.ts';

/** A sum and how many things it summed: the metric is sum / count. */
export interface Tally {
  sum: number;
  count: number;
}

export interface MetricSpec {
  /** In epoch lines and `cnnc eval`: `accuracy`, `binary accuracy`, `mse(landmarks)`. */
  readonly name: string;
  /** In the progress bar: `acc`, `bin acc`, `mse`. */
  readonly short: string;
  /** Shown as a percentage. */
  readonly percent: boolean;
  /** Layers or inputs whose values it reads (the programs output them as `value:<name>`). */
  readonly reads: readonly string[];
  /** The target feed it reads, if any. */
  readonly target?: string;
  /** Rows of `reads` (each [count, ...]) and the target's rows for `count` examples. */
  measure(values: readonly Float32Array[], target: Float32Array | undefined, count: number): Tally;
}

type Measure = MetricSpec['measure'];

const rowsOf = (x: Float32Array, count: number): number => x.length / Math.max(1, count);

const classAccuracy: Measure = ([p], labels, count) => {
  const k = rowsOf(p!, count);
  let sum = 0;
  for (let i = 0; i < count; i++) if (argmax(p!.subarray(i * k, (i + 1) * k)) === labels![i]) sum++;
  return { sum, count };
};

const binaryAccuracy: Measure = ([p], t, count) => {
  const n = count * rowsOf(p!, count);
  let sum = 0;
  for (let i = 0; i < n; i++) if (p![i]! >= 0.5 === t![i]! >= 0.5) sum++;
  return { sum, count: n };
};

const elementwise =
  (f: (d: number) => number): Measure =>
  ([x], t, count) => {
    const n = count * rowsOf(x!, count);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += f(x![i]! - t![i]!);
    return { sum, count: n };
  };

const tripletOrder: Measure = ([a, p, n], _t, count) => {
  const d = rowsOf(a!, count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    let ap = 0;
    let an = 0;
    for (let j = i * d; j < (i + 1) * d; j++) {
      ap += (a![j]! - p![j]!) ** 2;
      an += (a![j]! - n![j]!) ** 2;
    }
    if (ap < an) sum++;
  }
  return { sum, count };
};

/** pc (the first output, a logit) against the target's pc. */
const objectAccuracy: Measure = ([y], t, count) => {
  const f = rowsOf(y!, count);
  let sum = 0;
  for (let i = 0; i < count; i++) if (y![i * f]! > 0 === t![i * f]! >= 0.5) sum++;
  return { sum, count };
};

/**
 * YOLO: per image with an object, whether the cell and anchor with the highest objectness logit
 * holds one in the target (chance: objects / (cells x anchors)). Layout [N, A(5 + C), S, S]:
 * anchor a's pc is channel a(5 + C).
 */
const objectCell =
  (anchors: number, classes: number): Measure =>
  ([y], t, count) => {
    const per = rowsOf(y!, count);
    const cells = per / (anchors * (5 + classes));
    let sum = 0;
    let counted = 0;
    for (let i = 0; i < count; i++) {
      let best = -Infinity;
      let hit = false;
      let hasObject = false;
      for (let a = 0; a < anchors; a++) {
        for (let c = 0; c < cells; c++) {
          const at = i * per + a * (5 + classes) * cells + c;
          if (t![at]! >= 0.5) hasObject = true;
          if (y![at]! > best) {
            best = y![at]!;
            hit = t![at]! >= 0.5;
          }
        }
      }
      if (!hasObject) continue;
      counted++;
      if (hit) sum++;
    }
    return { sum, count: counted };
  };

interface MetricRow {
  readonly name: string;
  readonly short: string;
  readonly percent: boolean;
  readonly measure: Measure;
}

/** The metrics of each loss that has one; a loss between two tensors (mse(a, b)) has none. */
function rowsFor(term: LossTerm): readonly MetricRow[] {
  const hasTarget = term.target !== undefined;
  switch (term.fn) {
    case 'cross_entropy':
      return [{ name: 'accuracy', short: 'acc', percent: true, measure: classAccuracy }];
    case 'binary_cross_entropy':
      return [{ name: 'binary accuracy', short: 'bin acc', percent: true, measure: binaryAccuracy }];
    case 'mse':
      return hasTarget
        ? [
            { name: 'mse', short: 'mse', percent: false, measure: elementwise((d) => d * d) },
            { name: 'mae', short: 'mae', percent: false, measure: elementwise(Math.abs) },
          ]
        : [];
    case 'triplet':
      return [{ name: 'triplet accuracy', short: 'trip acc', percent: true, measure: tripletOrder }];
    case 'localization':
      return [{ name: 'object accuracy', short: 'obj acc', percent: true, measure: objectAccuracy }];
    case 'yolo':
      return [{ name: 'object cell accuracy', short: 'cell acc', percent: true, measure: objectCell(term.options.anchors ?? 5, term.options.classes ?? 80) }];
    default:
      return [];
  }
}

/** The metrics of a model's loss; a name used by several terms gets the tensor it scores: `mse(landmarks)`. */
export function metricsFor(graph: ModelGraph): MetricSpec[] {
  const specs: MetricSpec[] = [];
  for (const term of graph.loss) {
    for (const row of rowsFor(term)) {
      const reads = term.fn === 'triplet' ? term.args.slice(0, 3) : term.args.slice(0, 1);
      specs.push({ ...row, reads, ...(term.target ? { target: term.target.name } : {}) });
    }
  }
  return specs.map((s) => {
    if (specs.filter((o) => o.name === s.name).length === 1) return s;
    return { ...s, name: `${s.name}(${s.reads[0]})`, short: `${s.short}(${s.reads[0]})` };
  });
}

/** Runs every metric on one batch's program outputs (`value:<name>`) and feeds. */
export function measureAll(metrics: readonly MetricSpec[], outputs: ReadonlyMap<string, Float32Array>, feeds: ReadonlyMap<string, Float32Array>, count: number): Tally[] {
  return metrics.map((m) => {
    const values = m.reads.map((name) => outputs.get(`value:${name}`)!);
    const target = m.target === undefined ? undefined : feeds.get(m.target);
    return m.measure(values, target, count);
  });
}

/** Every layer or input some metric reads. */
export function observedValues(metrics: readonly MetricSpec[]): string[] {
  return [...new Set(metrics.flatMap((m) => m.reads))];
}

/** A metric's value for people: `87.5%` (`87.50%` with `digits` 2), `0.0123`. */
export function formatMetric(m: Pick<MetricSpec, 'percent'>, value: number, digits = 1): string {
  return m.percent ? `${(value * 100).toFixed(digits)}%` : value.toFixed(4);
}
