// GEMM microkernels in WebAssembly SIMD: C[M, N] (+)= A[M, K] B[K, N] with every size and stride
// folded in as constants. B and C rows are contiguous (N is the vector axis); A is read one
// element at a time through any strides, so a transposed A (the input gradient's W^T) needs no
// copy. Register blocks of ROWS x 8 columns keep 8 f32x4 accumulators live across the whole
// reduction; ragged edges take 4-column, then 1-column blocks and single rows.

import { Body, type Local } from './encode.ts';

export interface GemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Bytes between A's rows (m) and between its columns (k). */
  readonly aRow: number;
  readonly aCol: number;
  /** Bytes between B's rows (k) and between C's rows (m); columns are contiguous in both. */
  readonly bRow: number;
  readonly cRow: number;
  /** Adds into C instead of overwriting it (sums over examples). */
  readonly accumulate: boolean;
}

/** Rows per register block. */
const ROWS = 4;
/**
 * f32x4 vectors per register block row. 4 x 8, with A's element loaded and broadcast once per row
 * (v128.load32_splat), reaches 28-39 GFLOP/s per core on ResNet-8's shapes (22-26 when every
 * vector reloaded it); 6 x 8 and 4 x 12 were slower (x64 has 16 vector registers).
 */
const WIDE = 2;

export function gemmKey(s: GemmSpec): string {
  return `gemm:${s.m}x${s.n}x${s.k}:${s.aRow},${s.aCol},${s.bRow},${s.cRow}:${s.accumulate ? 'acc' : 'set'}`;
}

/** A function (a, b, c: byte addresses) computing one GEMM. */
export function gemmBody(s: GemmSpec): Body {
  const f = new Body(['i32', 'i32', 'i32']);
  const [a, b, c] = [f.param(0), f.param(1), f.param(2)];
  const i = f.local('i32');
  const j = f.local('i32');
  const pa = f.local('i32');
  const pb = f.local('i32');
  const pc = f.local('i32');
  const end = f.local('i32');
  const vecAcc = Array.from({ length: ROWS * WIDE }, () => f.local('v128'));
  const sclAcc = Array.from({ length: ROWS }, () => f.local('f32'));
  const bv = Array.from({ length: WIDE }, () => f.local('v128'));
  const bs = f.local('f32');
  const av = f.local('v128');

  /** One register block: `rows` rows from i, `vecs` vectors (0: one scalar column) from j. */
  const block = (rows: number, vecs: number): void => {
    const acc = (r: number, v: number): Local => (vecs === 0 ? sclAcc[r]! : vecAcc[r * WIDE + v]!);
    const lanes = Math.max(1, vecs);
    f.get(a).get(i).i32(s.aRow).i32Mul().i32Add().set(pa);
    f.get(b).get(j).i32(4).i32Mul().i32Add().set(pb);
    f.get(c).get(i).i32(s.cRow).i32Mul().i32Add().get(j).i32(4).i32Mul().i32Add().set(pc);
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < lanes; v++) {
        if (s.accumulate) {
          f.get(pc);
          if (vecs === 0) f.f32Load(r * s.cRow);
          else f.v128Load(r * s.cRow + 16 * v);
        } else if (vecs === 0) f.f32(0);
        else f.v128Const(0);
        f.set(acc(r, v));
      }
    }
    f.get(pa).i32(s.k * s.aCol).i32Add().set(end);
    f.loop();
    for (let v = 0; v < lanes; v++) {
      f.get(pb);
      if (vecs === 0) f.f32Load(0).set(bs);
      else f.v128Load(16 * v).set(bv[v]!);
    }
    for (let r = 0; r < rows; r++) {
      // A's element is loaded (and broadcast) once per row, for every vector of the row.
      if (vecs > 0) f.get(pa).v128Load32Splat(r * s.aRow).set(av);
      for (let v = 0; v < lanes; v++) {
        f.get(acc(r, v));
        if (vecs === 0) f.get(pa).f32Load(r * s.aRow).get(bs).f32Mul().f32Add();
        else f.get(av).get(bv[v]!).vMul().vAdd();
        f.set(acc(r, v));
      }
    }
    f.get(pa).i32(s.aCol).i32Add().set(pa);
    f.get(pb).i32(s.bRow).i32Add().set(pb);
    f.get(pa).get(end).i32Ne().brIf(0).end();
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < lanes; v++) {
        f.get(pc).get(acc(r, v));
        if (vecs === 0) f.f32Store(r * s.cRow);
        else f.v128Store(r * s.cRow + 16 * v);
      }
    }
  };

  /** Every column block for the rows at i. */
  const columns = (rows: number): void => {
    const wide = Math.floor(s.n / (4 * WIDE)) * 4 * WIDE;
    f.for(j, 0, wide, 4 * WIDE, () => block(rows, WIDE));
    let at = wide;
    for (let v = WIDE - 1; v >= 1; v--) {
      if (s.n - at >= 4 * v) {
        f.i32(at).set(j);
        block(rows, v);
        at += 4 * v;
      }
    }
    f.for(j, at, s.n, 1, () => block(rows, 0));
  };
  const mFull = Math.floor(s.m / ROWS) * ROWS;
  f.for(i, 0, mFull, ROWS, () => columns(ROWS));
  f.for(i, mFull, s.m, 1, () => columns(1));
  return f;
}
