// Window pooling and its gradient over Float32Array views, with the reference executor's exact
// semantics (ops.ts: in-bounds elements only, the first maximum takes the gradient) and plain
// index arithmetic instead of per-window arrays. Rank 1 and 2 are rank 3 with size-1 axes.

import type { PoolOpAttrs } from '../../compiler/ir/ops.ts';

type Triple = [number, number, number];
const three = (v: readonly number[], fill: number): Triple => {
  const s = [...v];
  while (s.length < 3) s.unshift(fill);
  return [s[0]!, s[1]!, s[2]!];
};

interface Window {
  readonly planes: number;
  readonly s: Triple;
  readonly o: Triple;
  readonly k: Triple;
  readonly t: Triple;
  readonly p: Triple;
}

function windowOf(a: Omit<PoolOpAttrs, 'op'>, xShape: readonly number[], yShape: readonly number[]): Window {
  return { planes: xShape[0]! * xShape[1]!, s: three(xShape.slice(2), 1), o: three(yShape.slice(2), 1), k: three(a.kernel, 1), t: three(a.stride, 1), p: three(a.padBefore, 0) };
}

/**
 * Calls f(outIndex, first, count) for every window after filling `idx` with the flat input
 * indices of its in-bounds elements (count of them), in row-major window order.
 */
function eachWindow(w: Window, idx: Int32Array, f: (yi: number, count: number) => void): void {
  const [S0, S1, S2] = w.s;
  const [O0, O1, O2] = w.o;
  let yi = 0;
  for (let pl = 0; pl < w.planes; pl++) {
    for (let q0 = 0; q0 < O0; q0++) {
      const a0lo = Math.max(0, q0 * w.t[0] - w.p[0]);
      const a0hi = Math.min(S0, q0 * w.t[0] - w.p[0] + w.k[0]);
      for (let q1 = 0; q1 < O1; q1++) {
        const a1lo = Math.max(0, q1 * w.t[1] - w.p[1]);
        const a1hi = Math.min(S1, q1 * w.t[1] - w.p[1] + w.k[1]);
        for (let q2 = 0; q2 < O2; q2++, yi++) {
          const a2lo = Math.max(0, q2 * w.t[2] - w.p[2]);
          const a2hi = Math.min(S2, q2 * w.t[2] - w.p[2] + w.k[2]);
          let count = 0;
          for (let a0 = a0lo; a0 < a0hi; a0++) {
            for (let a1 = a1lo; a1 < a1hi; a1++) {
              const row = ((pl * S0 + a0) * S1 + a1) * S2;
              for (let a2 = a2lo; a2 < a2hi; a2++) idx[count++] = row + a2;
            }
          }
          f(yi, count);
        }
      }
    }
  }
}

const scratchFor = (w: Window): Int32Array => new Int32Array(w.k[0] * w.k[1] * w.k[2]);

export function poolForward(a: PoolOpAttrs, x: Float32Array, xShape: readonly number[], y: Float32Array, yShape: readonly number[]): void {
  const w = windowOf(a, xShape, yShape);
  const idx = scratchFor(w);
  if (a.mode === 'max') {
    eachWindow(w, idx, (yi, count) => {
      let best = x[idx[0]!]!;
      for (let j = 1; j < count; j++) if (x[idx[j]!]! > best) best = x[idx[j]!]!;
      y[yi] = best;
    });
  } else {
    eachWindow(w, idx, (yi, count) => {
      let sum = 0;
      for (let j = 0; j < count; j++) sum += x[idx[j]!]!;
      y[yi] = sum / count;
    });
  }
}

/** dx from dy (yShape) and x (dx's shape). */
export function poolBackward(a: Omit<PoolOpAttrs, 'op'>, dy: Float32Array, x: Float32Array, yShape: readonly number[], dx: Float32Array, xShape: readonly number[]): void {
  const w = windowOf(a, xShape, yShape);
  const idx = scratchFor(w);
  dx.fill(0);
  if (a.mode === 'max') {
    eachWindow(w, idx, (yi, count) => {
      let best = idx[0]!;
      for (let j = 1; j < count; j++) if (x[idx[j]!]! > x[best]!) best = idx[j]!;
      dx[best] += dy[yi]!;
    });
  } else {
    eachWindow(w, idx, (yi, count) => {
      const g = dy[yi]! / count;
      for (let j = 0; j < count; j++) dx[idx[j]!] += g;
    });
  }
}
