// Convolutions as one GEMM per example over an im2col matrix built in a per-thread scratch area,
// all in WebAssembly with sizes folded in:
//   forward       Y[n] = W cols(x[n])                      (Co x CiK) (CiK x P)
//   input grad    dX[n] = col2im(W^T dY[n])                (CiK x Co) (Co x P), scattered back
//   weight grad   dW^T += cols(x[n]) dY[n]^T               (CiK x P) (P x Co), per-thread partials
// A 1x1, stride-1, unpadded convolution reads x[n] (and writes dX[n]) in place of the columns.
// Rank 1 and 2 are rank 3 with leading size-1 axes, as in the reference executor.

import type { ConvOpAttrs } from '../../ir/ops.ts';
import { Body, type Local } from './encode.ts';
import type { GemmSpec } from './gemm.ts';

export type Triple = [number, number, number];

export interface ConvGeometry {
  readonly n: number;
  readonly ci: number;
  readonly co: number;
  readonly s: Triple;
  readonly o: Triple;
  readonly k: Triple;
  readonly st: Triple;
  readonly pb: Triple;
  readonly dl: Triple;
}

/** A per-axis value of a rank-1..3 op as rank 3, leading axes filled with `fill`. */
export const three = (v: readonly number[], fill: number): Triple => {
  const s = [...v];
  while (s.length < 3) s.unshift(fill);
  return [s[0]!, s[1]!, s[2]!];
};

export function convGeometry(x: readonly number[], w: readonly number[], y: readonly number[], a: Omit<ConvOpAttrs, 'op'>): ConvGeometry {
  return {
    n: x[0]!, ci: x[1]!, co: w[0]!,
    s: three(x.slice(2), 1), o: three(y.slice(2), 1), k: three(w.slice(2), 1),
    st: three(a.stride, 1), pb: three(a.padBefore, 0), dl: three(a.dilation, 1),
  };
}

const prod = (t: Triple): number => t[0] * t[1] * t[2];
export const positions = (g: ConvGeometry): number => prod(g.o);
export const columnRows = (g: ConvGeometry): number => g.ci * prod(g.k);
export const exampleIn = (g: ConvGeometry): number => g.ci * prod(g.s);
export const exampleOut = (g: ConvGeometry): number => g.co * prod(g.o);

/** Whether the columns of an example are x[n] itself. */
export function isPointwise(g: ConvGeometry): boolean {
  return prod(g.k) === 1 && g.st.every((t) => t === 1) && g.pb.every((p) => p === 0) && g.s.every((s, a) => s === g.o[a]);
}

/**
 * A stride-1 convolution's input gradient as a forward convolution of dY (the flipped kernel with
 * Ci and Co swapped; padding d (K - 1) - p), or undefined where that does not apply or does not
 * pay: it computes every tap of every input position, so an unpadded convolution, whose x is
 * larger than its y, would multiply as many zeros as the scatter form saves.
 */
export function flippedGeometry(g: ConvGeometry): ConvGeometry | undefined {
  const pb = [0, 1, 2].map((a) => g.dl[a]! * (g.k[a]! - 1) - g.pb[a]!) as Triple;
  if (g.st.some((t) => t !== 1) || pb.some((p) => p < 0) || prod(g.s) > 1.25 * prod(g.o)) return undefined;
  return { n: g.n, ci: g.co, co: g.ci, s: g.o, o: g.s, k: g.k, st: [1, 1, 1], pb, dl: g.dl };
}

/** Output positions q on one axis whose tap offset `off` lands inside [0, size). */
function validRange(off: number, stride: number, size: number, out: number): [number, number] {
  return [Math.max(0, Math.ceil(-off / stride)), Math.min(out - 1, Math.floor((size - 1 - off) / stride))];
}

/** Whether some tap reads padding, so the columns need zeros first. */
function readsPadding(g: ConvGeometry): boolean {
  for (let a = 0; a < 3; a++) {
    for (let t = 0; t < g.k[a]!; t++) {
      const [lo, hi] = validRange(t * g.dl[a]! - g.pb[a]!, g.st[a]!, g.s[a]!, g.o[a]!);
      if (lo > 0 || hi < g.o[a]! - 1) return true;
    }
  }
  return false;
}

/**
 * Emits, into `f`, the copy between x (one example at local `x`) and its column matrix at local
 * `cols`: cols[row, q] at byte (row * rowStride + q * colStride) * 4. `back` scatters the columns
 * into x, adding (col2im); otherwise x is gathered into the columns (im2col).
 */
export function emitColumns(f: Body, g: ConvGeometry, x: Local, cols: Local, rowStride: number, colStride: number, back: boolean): void {
  const taps = prod(g.k);
  const P = positions(g);
  const [S0, S1, S2] = g.s;
  const [, O1, O2] = g.o;
  const ci = f.local('i32');
  const q0 = f.local('i32');
  const q1 = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const end = f.local('i32');
  const xc = f.local('i32');
  const cc = f.local('i32');
  if (!back && readsPadding(g)) f.get(cols).i32(0).i32((columnRows(g) - 1) * rowStride * 4 + (P - 1) * colStride * 4 + 4).memFill();
  f.for(ci, 0, g.ci, 1, () => {
    f.get(x).get(ci).i32(S0 * S1 * S2 * 4).i32Mul().i32Add().set(xc);
    f.get(cols).get(ci).i32(taps * rowStride * 4).i32Mul().i32Add().set(cc);
    let tap = 0;
    for (let k0 = 0; k0 < g.k[0]; k0++) for (let k1 = 0; k1 < g.k[1]; k1++) for (let k2 = 0; k2 < g.k[2]; k2++, tap++) {
      const off = [k0 * g.dl[0] - g.pb[0], k1 * g.dl[1] - g.pb[1], k2 * g.dl[2] - g.pb[2]];
      const r = [0, 1, 2].map((a) => validRange(off[a]!, g.st[a]!, g.s[a]!, g.o[a]!));
      if (r.some(([lo, hi]) => lo > hi)) continue;
      const [lo2, hi2] = r[2]!;
      const count = hi2 - lo2 + 1;
      f.for(q0, r[0]![0], r[0]![1] + 1, 1, () => {
        f.for(q1, r[1]![0], r[1]![1] + 1, 1, () => {
          // x offset of (q0, q1, lo2) and column offset of (tap, q0, q1, lo2), in bytes.
          f.get(q0).i32(g.st[0] * S1 * S2 * 4).i32Mul().get(q1).i32(g.st[1] * S2 * 4).i32Mul().i32Add()
            .get(xc).i32Add().i32(((off[0]! * S1 + off[1]!) * S2 + off[2]! + lo2 * g.st[2]) * 4).i32Add().set(src);
          f.get(q0).i32(O1 * O2 * colStride * 4).i32Mul().get(q1).i32(O2 * colStride * 4).i32Mul().i32Add()
            .get(cc).i32Add().i32((tap * rowStride + lo2 * colStride) * 4).i32Add().set(dst);
          if (!back && g.st[2] === 1 && colStride === 1) {
            emitCopy(f, dst, src, count);
            return;
          }
          f.get(src).i32(count * g.st[2] * 4).i32Add().set(end);
          f.loop();
          if (back) f.get(src).get(src).f32Load().get(dst).f32Load().f32Add().f32Store();
          else f.get(dst).get(src).f32Load().f32Store();
          f.get(dst).i32(colStride * 4).i32Add().set(dst);
          f.get(src).i32(g.st[2] * 4).i32Add().tee(src).get(end).i32Ne().brIf(0).end();
        });
      });
    }
  });
}

/**
 * dst[c, r] = src[r, c] for a [rows, cols] matrix at byte addresses `src`, `dst`: 4x4 blocks
 * through registers (two rounds of lane shuffles) when both sides are multiples of 4, else one
 * element at a time. `r` and `c` are the caller's i32 locals for the loops.
 */
export function emitTranspose(f: Body, src: Local, dst: Local, rows: number, cols: number, r: Local, c: Local): void {
  if (rows % 4 !== 0 || cols % 4 !== 0) {
    f.for(r, 0, rows, 1, () => {
      f.for(c, 0, cols, 1, () => {
        f.get(c).i32(rows * 4).i32Mul().get(r).i32(4).i32Mul().i32Add().get(dst).i32Add();
        f.get(r).i32(cols * 4).i32Mul().get(c).i32(4).i32Mul().i32Add().get(src).i32Add().f32Load().f32Store();
      });
    });
    return;
  }
  const [from, to] = [f.local('i32'), f.local('i32')];
  const v = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const t = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  f.for(r, 0, rows, 4, () => {
    f.for(c, 0, cols, 4, () => {
      f.get(r).i32(cols * 4).i32Mul().get(c).i32(4).i32Mul().i32Add().get(src).i32Add().set(from);
      f.get(c).i32(rows * 4).i32Mul().get(r).i32(4).i32Mul().i32Add().get(dst).i32Add().set(to);
      for (let i = 0; i < 4; i++) f.get(from).v128Load(i * cols * 4).set(v[i]!);
      // Rows a, b -> [a0 b0 a1 b1], [a2 b2 a3 b3]; pairs of those -> the four columns.
      f.get(v[0]!).get(v[1]!).shuffle32([0, 4, 1, 5]).set(t[0]!);
      f.get(v[0]!).get(v[1]!).shuffle32([2, 6, 3, 7]).set(t[1]!);
      f.get(v[2]!).get(v[3]!).shuffle32([0, 4, 1, 5]).set(t[2]!);
      f.get(v[2]!).get(v[3]!).shuffle32([2, 6, 3, 7]).set(t[3]!);
      f.get(to).get(t[0]!).get(t[2]!).shuffle32([0, 1, 4, 5]).v128Store(0);
      f.get(to).get(t[0]!).get(t[2]!).shuffle32([2, 3, 6, 7]).v128Store(rows * 4);
      f.get(to).get(t[1]!).get(t[3]!).shuffle32([0, 1, 4, 5]).v128Store(2 * rows * 4);
      f.get(to).get(t[1]!).get(t[3]!).shuffle32([2, 3, 6, 7]).v128Store(3 * rows * 4);
    });
  });
}

/** Longest row copied inline; longer ones call memory.copy. */
const INLINE_COPY = 64;

/**
 * Copies `count` f32 from byte address `src` to `dst`: short rows (a 3x3 convolution's columns
 * copy one row segment per channel, tap and output row) as unrolled f32x4 moves, since a
 * memory.copy call costs more than the few moves it makes.
 */
function emitCopy(f: Body, dst: Local, src: Local, count: number): void {
  if (count > INLINE_COPY) {
    f.get(dst).get(src).i32(count * 4).memCopy();
    return;
  }
  let at = 0;
  for (; at + 4 <= count; at += 4) f.get(dst).get(src).v128Load(at * 4).v128Store(at * 4);
  for (; at < count; at++) f.get(dst).get(src).f32Load(at * 4).f32Store(at * 4);
}

/** GEMM shapes of the three convolution products for one example. */
export function convGemms(g: ConvGeometry): { forward: GemmSpec; input: GemmSpec; weight: GemmSpec } {
  const P = positions(g);
  const R = columnRows(g);
  return {
    forward: { m: g.co, n: P, k: R, aRow: R * 4, aCol: 4, bRow: P * 4, cRow: P * 4, accumulate: false },
    input: { m: R, n: P, k: g.co, aRow: 4, aCol: R * 4, bRow: P * 4, cRow: P * 4, accumulate: false },
    weight: { m: R, n: g.co, k: P, aRow: P * 4, aCol: 4, bRow: g.co * 4, cRow: g.co * 4, accumulate: true },
  };
}

/** Scratch bytes one thread needs for a convolution's columns. */
export function columnBytes(g: ConvGeometry): number {
  return columnRows(g) * positions(g) * 4;
}
