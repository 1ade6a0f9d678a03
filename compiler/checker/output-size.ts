// The output-size rule, floor((n + 2p - f)/s) + 1, per spatial axis, with the arithmetic kept so a
// diagnostic can show the user exactly which numbers failed.
//
// `same` follows TensorFlow/Keras: out = ceil(n / s), total padding max((out - 1)s + f - n, 0),
// split with the odd pixel after (bottom/right). With stride 1 and an odd kernel this is the
// course's p = (f - 1)/2 on both sides.

export interface AxisRule {
  readonly n: number;
  /** Effective kernel extent: dilation * (f - 1) + 1. */
  readonly f: number;
  readonly s: number;
  readonly padBefore: number;
  readonly padAfter: number;
}

export interface AxisResult {
  readonly out: number;
  /** The rule's value before rounding, e.g. 1.5. */
  readonly exact: number;
  /** Written out: `(6 + 2*0 - 5)/2 + 1 = 1.5`. */
  readonly arithmetic: string;
}

export type Padding = { readonly kind: 'same' } | { readonly kind: 'valid' } | { readonly kind: 'explicit'; readonly before: readonly number[]; readonly after: readonly number[] };

export function samePadding(n: number, f: number, s: number): { before: number; after: number } {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + f - n, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before };
}

function formatArithmetic(r: AxisRule, exact: number): string {
  const pad = r.padBefore === r.padAfter ? `2*${r.padBefore}` : `${r.padBefore} + ${r.padAfter}`;
  const numerator = `${r.n} + ${pad} - ${r.f}`;
  const value = Number.isInteger(exact) ? String(exact) : String(Math.round(exact * 1000) / 1000);
  return r.s === 1 ? `${numerator} + 1 = ${value}` : `(${numerator})/${r.s} + 1 = ${value}`;
}

export function applyRule(r: AxisRule, ceil = false): AxisResult {
  const numerator = r.n + r.padBefore + r.padAfter - r.f;
  const exact = numerator / r.s + 1;
  let out = ceil ? Math.ceil(numerator / r.s) + 1 : Math.floor(numerator / r.s) + 1;
  // Caffe/PyTorch ceil mode: the last window must start inside the input or its leading padding.
  if (ceil && numerator >= 0 && (out - 1) * r.s >= r.n + r.padBefore) out--;
  return { out, exact, arithmetic: formatArithmetic(r, exact) };
}

/** Resolve `same` / `valid` / explicit padding into per-axis before/after amounts. */
export function resolvePadding(padding: Padding, n: readonly number[], f: readonly number[], s: readonly number[]): { before: number[]; after: number[] } {
  switch (padding.kind) {
    case 'valid':
      return { before: n.map(() => 0), after: n.map(() => 0) };
    case 'explicit':
      return { before: [...padding.before], after: [...padding.after] };
    case 'same': {
      const pads = n.map((ni, i) => samePadding(ni, f[i], s[i]));
      return { before: pads.map((p) => p.before), after: pads.map((p) => p.after) };
    }
  }
}
