// Numeric command-line options with one clear usage error naming the flag and the bad value.

import { UsageError } from './io.ts';

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** The minimum itself is not allowed (a learning rate must be > 0). */
  readonly exclusiveMin?: boolean;
}

export function parseNumberOption(flag: string, value: string | undefined, fallback: number, rule: NumberRule = {}): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  const { integer = false, min = -Infinity, max = Infinity, exclusiveMin = false } = rule;
  const ok = Number.isFinite(n) && (!integer || Number.isInteger(n)) && (exclusiveMin ? n > min : n >= min) && n <= max;
  if (!ok) {
    const range = [min > -Infinity ? `${exclusiveMin ? '>' : '>='} ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`--${flag} expects ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got '${value}'`);
  }
  return n;
}

/** `HxW` (e.g. `256x256`) as two positive integers. */
export function parseSize(flag: string, value: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  const [h, w] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(h > 0 && w > 0)) throw new UsageError(`--${flag} expects HxW with positive integers, e.g. 256x256, got '${value}'`);
  return [h, w];
}
