// Values the checker computes while it expands a model: numbers from integer arithmetic, sizes
// written `a x b`, bare words (`same`, `ceil`), and tensors (a layer's output and its shape).

import type { Shape } from '../graph.ts';
import { formatShape } from '../../grammar/catalog/index.ts';
import type { Span } from '../../grammar/span.ts';

/** `28x28x6`, or `a scalar`: messages write shapes this way (the catalog owns the format). */
export { formatShape };

export interface TensorValue {
  readonly kind: 'tensor';
  /** The layer or input that produces it. */
  readonly name: string;
  readonly shape: Shape;
}

export type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'dims'; readonly values: readonly number[] }
  | { readonly kind: 'symbol'; readonly name: string }
  | TensorValue;

/** Bare words layer arguments accept; any other unknown name is an error. */
export const SYMBOLS = new Set(['same', 'valid', 'floor', 'ceil', 'on', 'off', 'true', 'false', 'max', 'avg', 'nearest']);

/** An evaluated argument, with where it was written so errors can point at it. */
export interface ArgValue {
  readonly name?: string;
  readonly value: Value;
  readonly span: Span;
}


/** Whole numbers as they are; fractions to 6 significant digits (`3.33333`, not `3.3333333333333335`). */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'number':
      return formatNumber(v.value);
    case 'dims':
      return v.values.join('x');
    case 'symbol':
      return v.name;
    case 'tensor':
      return `a ${formatShape(v.shape)} tensor`;
  }
}

export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** `1,234,567` */
export function groupDigits(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `120.4M`, `62.0K`, `950` */
export function humanCount(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, suffix] of units) if (Math.abs(n) >= scale) return `${(n / scale).toFixed(1)}${suffix}`;
  return String(Math.round(n));
}

/** `61.0 MB` in powers of 1000, `1.2 KB`, `512 B`. */
export function humanBytes(n: number): string {
  const units: [number, string][] = [
    [1e15, 'PB'],
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ];
  for (const [scale, suffix] of units) if (n >= scale) return `${(n / scale).toFixed(1)} ${suffix}`;
  return `${n} B`;
}
