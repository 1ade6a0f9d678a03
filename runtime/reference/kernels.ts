// CPU reference kernels: one plain function per IR op over Float32Array, in a table keyed by op.
// Clarity first; sums accumulate in float64. Spatial ops treat every rank as 3D (D, H, W) with
// size-1 leading axes, so one loop nest serves conv1d/2d/3d and pool1d/2d/3d.

import type { AttrsOf, IrNode, OpName, UnaryFn } from '../../compiler/ir/ops.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';

export type Kernel = (node: IrNode, inputs: readonly Float32Array[], shapes: readonly (readonly number[])[]) => Float32Array;

type Attrs<K extends OpName> = AttrsOf<K>;
const attrs = <K extends OpName>(node: IrNode, _k: K): Attrs<K> => node.attrs as Attrs<K>;

/** Spatial dims of [N, C, ...S] padded to 3 with leading 1s. */
function spatial3(shape: readonly number[]): [number, number, number] {
  const s = shape.slice(2);
  while (s.length < 3) s.unshift(1);
  return [s[0]!, s[1]!, s[2]!];
}

/** A per-axis attribute of a rank-r op padded to 3 with `fill`. */
function pad3(v: readonly number[], fill: number): [number, number, number] {
  const s = [...v];
  while (s.length < 3) s.unshift(fill);
  return [s[0]!, s[1]!, s[2]!];
}

interface ConvGeom {
  n: number; ci: number; co: number;
  s: [number, number, number]; o: [number, number, number]; k: [number, number, number];
  st: [number, number, number]; pb: [number, number, number]; dl: [number, number, number];
}

function convGeom(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], a: Attrs<'conv'> | Attrs<'conv_grad_input'> | Attrs<'conv_grad_weight'>): ConvGeom {
  return {
    n: xShape[0]!, ci: xShape[1]!, co: wShape[0]!,
    s: spatial3(xShape), o: spatial3(yShape), k: spatial3(wShape),
    st: pad3(a.stride, 1), pb: pad3(a.padBefore, 0), dl: pad3(a.dilation, 1),
  };
}

/**
 * im2col for one example: cols[(i, k), q] = x[n, i, q * stride - padBefore + k * dilation], 0
 * outside x, with (i, k) in weight order and q in output order. With `back`, the adjoint:
 * scatters cols back into dx instead (col2im).
 */
function im2col(g: ConvGeom, x: Float64Array, n: number, cols: Float64Array, back: boolean): void {
  const [S0, S1, S2] = g.s;
  const [O0, O1, O2] = g.o;
  const [K0, K1, K2] = g.k;
  const [t0, t1, t2] = g.st;
  const [p0, p1, p2] = g.pb;
  const [d0, d1, d2] = g.dl;
  const P = O0 * O1 * O2;
  let row = 0;
  for (let i = 0; i < g.ci; i++) {
    const xb = (n * g.ci + i) * S0 * S1 * S2;
    for (let k0 = 0; k0 < K0; k0++) for (let k1 = 0; k1 < K1; k1++) for (let k2 = 0; k2 < K2; k2++, row++) {
      const off2 = k2 * d2 - p2;
      const lo = Math.max(0, Math.ceil(-off2 / t2));
      const hi = Math.min(O2 - 1, Math.floor((S2 - 1 - off2) / t2));
      for (let q0 = 0; q0 < O0; q0++) {
        const a0 = q0 * t0 - p0 + k0 * d0;
        for (let q1 = 0; q1 < O1; q1++) {
          const a1 = q1 * t1 - p1 + k1 * d1;
          const cr = row * P + (q0 * O1 + q1) * O2;
          if (a0 < 0 || a0 >= S0 || a1 < 0 || a1 >= S1) continue;
          const xr = xb + (a0 * S1 + a1) * S2 + off2;
          if (back) for (let q2 = lo; q2 <= hi; q2++) x[xr + q2 * t2] += cols[cr + q2]!;
          else for (let q2 = lo; q2 <= hi; q2++) cols[cr + q2] = x[xr + q2 * t2]!;
        }
      }
    }
  }
}

/**
 * Convolution through im2col per example, accumulating in float64; `mode` picks the result:
 * 'y' forward (y = W cols), 'x' input gradient (col2im(W^T dy)), 'w' weight gradient
 * (dW += dy cols^T). Long contiguous inner loops keep plain JavaScript fast enough here.
 */
function convLoop(g: ConvGeom, x: Float64Array, w: Float64Array, y: Float64Array, mode: 'y' | 'x' | 'w'): void {
  const P = g.o[0] * g.o[1] * g.o[2];
  const R = g.ci * g.k[0] * g.k[1] * g.k[2];
  const cols = new Float64Array(R * P);
  for (let n = 0; n < g.n; n++) {
    const yb = n * g.co * P;
    if (mode === 'x') cols.fill(0);
    else im2col(g, x, n, cols, false);
    let o = 0;
    if (mode === 'y') {
      // Four output channels per pass over cols: each column value is read once for four.
      for (; o + 4 <= g.co; o += 4) {
        const [y0, y1, y2, y3] = [yb + o * P, yb + (o + 1) * P, yb + (o + 2) * P, yb + (o + 3) * P];
        for (let r = 0; r < R; r++) {
          const cr = r * P;
          const [w0, w1, w2, w3] = [w[o * R + r]!, w[(o + 1) * R + r]!, w[(o + 2) * R + r]!, w[(o + 3) * R + r]!];
          for (let q = 0; q < P; q++) {
            const c = cols[cr + q]!;
            y[y0 + q] += w0 * c;
            y[y1 + q] += w1 * c;
            y[y2 + q] += w2 * c;
            y[y3 + q] += w3 * c;
          }
        }
      }
    }
    for (; o < g.co; o++) {
      const yo = yb + o * P;
      for (let r = 0; r < R; r++) {
        const cr = r * P;
        const wi = o * R + r;
        if (mode === 'w') {
          let acc = 0;
          for (let q = 0; q < P; q++) acc += y[yo + q]! * cols[cr + q]!;
          w[wi] += acc;
          continue;
        }
        const wv = w[wi]!;
        if (wv === 0) continue;
        if (mode === 'y') for (let q = 0; q < P; q++) y[yo + q] += wv * cols[cr + q]!;
        else for (let q = 0; q < P; q++) cols[cr + q] += wv * y[yo + q]!;
      }
    }
    if (mode === 'x') im2col(g, x, n, cols, true);
  }
}

/** Visits each pool window: f(outIndex, list of in-bounds input flat indices). */
function poolWindows(xShape: readonly number[], yShape: readonly number[], a: Attrs<'pool'> | Attrs<'pool_grad'>, f: (yi: number, idx: number[]) => void): void {
  const [S0, S1, S2] = spatial3(xShape);
  const [O0, O1, O2] = spatial3(yShape);
  const [K0, K1, K2] = pad3(a.kernel, 1);
  const [t0, t1, t2] = pad3(a.stride, 1);
  const [p0, p1, p2] = pad3(a.padBefore, 0);
  const planes = xShape[0]! * xShape[1]!;
  const idx: number[] = [];
  for (let pl = 0; pl < planes; pl++) {
    for (let q0 = 0; q0 < O0; q0++) for (let q1 = 0; q1 < O1; q1++) for (let q2 = 0; q2 < O2; q2++) {
      idx.length = 0;
      for (let k0 = 0; k0 < K0; k0++) {
        const a0 = q0 * t0 - p0 + k0;
        if (a0 < 0 || a0 >= S0) continue;
        for (let k1 = 0; k1 < K1; k1++) {
          const a1 = q1 * t1 - p1 + k1;
          if (a1 < 0 || a1 >= S1) continue;
          for (let k2 = 0; k2 < K2; k2++) {
            const a2 = q2 * t2 - p2 + k2;
            if (a2 < 0 || a2 >= S2) continue;
            idx.push(((pl * S0 + a0) * S1 + a1) * S2 + a2);
          }
        }
      }
      f(((pl * O0 + q0) * O1 + q1) * O2 + q2, idx);
    }
  }
}

const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

function firstMax(x: Float32Array, idx: readonly number[]): number {
  let best = idx[0]!;
  for (const i of idx) if (x[i]! > x[best]!) best = i;
  return best;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

const UNARY: Record<UnaryFn, (v: number, alpha: number) => number> = {
  neg: (v) => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (v) => 1 / Math.sqrt(v),
  square: (v) => v * v,
  abs: Math.abs,
  sign: (v) => Math.sign(v),
  relu: (v) => (v > 0 ? v : 0),
  leaky_relu: (v, a) => (v > 0 ? v : a * v),
  tanh: Math.tanh,
  sigmoid,
  softplus: (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
  step: (v) => (v > 0 ? 1 : 0),
};

const UNARY_DERIV: Record<UnaryFn, (v: number, alpha: number) => number> = {
  neg: () => -1,
  exp: Math.exp,
  log: (v) => 1 / v,
  sqrt: (v) => 0.5 / Math.sqrt(v),
  rsqrt: (v) => -0.5 * Math.pow(v, -1.5),
  square: (v) => 2 * v,
  abs: (v) => Math.sign(v),
  sign: () => 0,
  relu: (v) => (v > 0 ? 1 : 0),
  leaky_relu: (v, a) => (v > 0 ? 1 : a),
  tanh: (v) => 1 - Math.tanh(v) ** 2,
  sigmoid: (v) => sigmoid(v) * (1 - sigmoid(v)),
  softplus: sigmoid,
  step: () => 0,
};

/** Splits a shape around `axis` into (outer, size, inner). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/** For each flat index of `big`, the flat index into `small` = big with `axes` removed. */
function collapseIndex(big: readonly number[], axes: readonly number[]): Int32Array {
  const small = big.filter((_, i) => !axes.includes(i));
  const sstr: number[] = [];
  let acc = 1;
  for (let i = small.length - 1; i >= 0; i--) { sstr[i] = acc; acc *= small[i]!; }
  const strideOfBig: number[] = [];
  let j = 0;
  for (let i = 0; i < big.length; i++) strideOfBig.push(axes.includes(i) ? 0 : sstr[j++]!);
  const n = sizeOf(big);
  const out = new Int32Array(n);
  const idx = new Array<number>(big.length).fill(0);
  let off = 0;
  for (let f = 0; f < n; f++) {
    out[f] = off;
    for (let a = big.length - 1; a >= 0; a--) {
      idx[a]!++;
      off += strideOfBig[a]!;
      if (idx[a]! < big[a]!) break;
      off -= strideOfBig[a]! * big[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** Multi-index iteration: calls f(flatIndex, index array) for every element of shape. */
function forEachIndex(shape: readonly number[], f: (flat: number, idx: readonly number[]) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(flat, idx);
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a]!++;
      if (idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

function flatOf(shape: readonly number[], idx: readonly number[]): number {
  let f = 0;
  for (let a = 0; a < shape.length; a++) f = f * shape[a]! + idx[a]!;
  return f;
}

/** Per-channel batch statistics over every axis but 1: mean and biased variance. */
function channelStats(x: Float32Array, shape: readonly number[]): { mean: Float64Array; variance: Float64Array; count: number } {
  const [N, C, inner] = around(shape, 1);
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const count = N * inner;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const b = (n * C + c) * inner;
    for (let i = 0; i < inner; i++) mean[c] += x[b + i]!;
  }
  for (let c = 0; c < C; c++) mean[c]! /= count;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const b = (n * C + c) * inner;
    for (let i = 0; i < inner; i++) variance[c] += (x[b + i]! - mean[c]!) ** 2;
  }
  for (let c = 0; c < C; c++) variance[c]! /= count;
  return { mean, variance, count };
}

/** The PCG hash of the dropout_mask op (u32 arithmetic). */
export function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** Label `l` of example `n` as a class index, or a RangeError naming both. */
export function classIndex(l: number, n: number, classes: number): number {
  if (!Number.isInteger(l) || l < 0 || l >= classes) throw new RangeError(`label ${l} of example ${n} is not a class index in [0, ${classes})`);
  return l;
}

export const KERNELS: { readonly [K in OpName]: Kernel } = {
  leaf: () => { throw new Error('leaf has no kernel'); },
  const: (node) => new Float32Array(sizeOf(node.shape)).fill(attrs(node, 'const').value),

  unary: (node, [x]) => {
    const a = attrs(node, 'unary');
    const f = UNARY[a.fn];
    return x!.map((v) => f(v, a.alpha));
  },
  unary_grad: (node, [dy, x]) => {
    const a = attrs(node, 'unary_grad');
    const f = UNARY_DERIV[a.fn];
    return dy!.map((g, i) => g * f(x![i]!, a.alpha));
  },
  binary: (node, [p, q]) => {
    const fn = attrs(node, 'binary').fn;
    const b = q!;
    switch (fn) {
      case 'add': return p!.map((v, i) => v + b[i]!);
      case 'sub': return p!.map((v, i) => v - b[i]!);
      case 'mul': return p!.map((v, i) => v * b[i]!);
      case 'div': return p!.map((v, i) => v / b[i]!);
      case 'max': return p!.map((v, i) => Math.max(v, b[i]!));
      case 'min': return p!.map((v, i) => Math.min(v, b[i]!));
    }
  },
  affine: (node, [x]) => {
    const { mul, add } = attrs(node, 'affine');
    return x!.map((v) => v * mul + add);
  },
  axpby: (node, [x, y]) => {
    const { a, b } = attrs(node, 'axpby');
    return x!.map((v, i) => a * v + b * y![i]!);
  },

  reduce: (node, [x], [xs]) => {
    const a = attrs(node, 'reduce');
    const map = collapseIndex(xs!, a.axes);
    const n = sizeOf(node.shape);
    const count = sizeOf(xs!) / n;
    const sum = new Float64Array(n);
    for (let i = 0; i < x!.length; i++) sum[map[i]!] += x![i]!;
    if (a.fn === 'sum') return Float32Array.from(sum);
    const mean = sum.map((v) => v / count);
    if (a.fn === 'mean') return Float32Array.from(mean);
    const sq = new Float64Array(n);
    for (let i = 0; i < x!.length; i++) sq[map[i]!] += (x![i]! - mean[map[i]!]!) ** 2;
    return Float32Array.from(sq, (v) => v / count);
  },
  expand: (node, [x]) => {
    const map = collapseIndex(node.shape, attrs(node, 'expand').axes);
    return Float32Array.from(map, (j) => x![j]!);
  },
  bias_add: (node, [x, b]) => {
    const [, C, inner] = around(node.shape, 1);
    return x!.map((v, i) => v + b![Math.floor(i / inner) % C]!);
  },

  matmul: (node, [a, b], [sa, sb]) => {
    const { transA, transB } = attrs(node, 'matmul');
    const r = sa!.length;
    const batch = r === 3 ? sa![0]! : 1;
    const [M, P] = [node.shape[r - 2]!, node.shape[r - 1]!];
    const K = transA ? sa![r - 2]! : sa![r - 1]!;
    const aRows = sa![r - 2]!, aCols = sa![r - 1]!, bRows = sb![r - 2]!, bCols = sb![r - 1]!;
    const out = new Float32Array(batch * M * P);
    const row = new Float64Array(P);
    for (let t = 0; t < batch; t++) {
      const ao = t * aRows * aCols, bo = t * bRows * bCols, oo = t * M * P;
      for (let m = 0; m < M; m++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const av = transA ? a![ao + k * aCols + m]! : a![ao + m * aCols + k]!;
          if (av === 0) continue;
          if (transB) for (let p = 0; p < P; p++) row[p] += av * b![bo + p * bCols + k]!;
          else {
            const br = bo + k * bCols;
            for (let p = 0; p < P; p++) row[p] += av * b![br + p]!;
          }
        }
        for (let p = 0; p < P; p++) out[oo + m * P + p] = row[p]!;
      }
    }
    return out;
  },

  conv: (node, [x, w], [xs, ws]) => {
    const y = new Float64Array(sizeOf(node.shape));
    convLoop(convGeom(xs!, ws!, node.shape, attrs(node, 'conv')), f64(x!), f64(w!), y, 'y');
    return Float32Array.from(y);
  },
  conv_grad_input: (node, [dy, w], [ys, ws]) => {
    const dx = new Float64Array(sizeOf(node.shape));
    convLoop(convGeom(node.shape, ws!, ys!, attrs(node, 'conv_grad_input')), dx, f64(w!), f64(dy!), 'x');
    return Float32Array.from(dx);
  },
  conv_grad_weight: (node, [x, dy], [xs, ys]) => {
    const dw = new Float64Array(sizeOf(node.shape));
    convLoop(convGeom(xs!, node.shape, ys!, attrs(node, 'conv_grad_weight')), f64(x!), dw, f64(dy!), 'w');
    return Float32Array.from(dw);
  },

  pool: (node, [x], [xs]) => {
    const a = attrs(node, 'pool');
    const y = new Float32Array(sizeOf(node.shape));
    poolWindows(xs!, node.shape, a, (yi, idx) => {
      if (a.mode === 'max') y[yi] = x![firstMax(x!, idx)]!;
      else {
        let s = 0;
        for (const i of idx) s += x![i]!;
        y[yi] = s / idx.length;
      }
    });
    return y;
  },
  pool_grad: (node, [dy, x], [ys]) => {
    const a = attrs(node, 'pool_grad');
    const dx = new Float32Array(sizeOf(node.shape));
    poolWindows(node.shape, ys!, a, (yi, idx) => {
      if (a.mode === 'max') dx[firstMax(x!, idx)] += dy![yi]!;
      else for (const i of idx) dx[i] += dy![yi]! / idx.length;
    });
    return dx;
  },

  batchnorm: (node, [x, mean, variance, gamma, beta]) => {
    const { eps } = attrs(node, 'batchnorm');
    const [, C, inner] = around(node.shape, 1);
    return x!.map((v, i) => {
      const c = Math.floor(i / inner) % C;
      return ((v - mean![c]!) / Math.sqrt(variance![c]! + eps)) * gamma![c]! + beta![c]!;
    });
  },
  batchnorm_train: (node, [x, gamma, beta]) => {
    const { eps } = attrs(node, 'batchnorm_train');
    const [, C, inner] = around(node.shape, 1);
    const { mean, variance } = channelStats(x!, node.shape);
    return x!.map((v, i) => {
      const c = Math.floor(i / inner) % C;
      return ((v - mean[c]!) / Math.sqrt(variance[c]! + eps)) * gamma![c]! + beta![c]!;
    });
  },
  batchnorm_train_grad_x: (node, [dy, x, gamma]) => {
    const { eps } = attrs(node, 'batchnorm_train_grad_x');
    const [, C, inner] = around(node.shape, 1);
    const { mean, variance, count } = channelStats(x!, node.shape);
    const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
    const mdy = new Float64Array(C);
    const mdyx = new Float64Array(C);
    for (let i = 0; i < x!.length; i++) {
      const c = Math.floor(i / inner) % C;
      mdy[c] += dy![i]!;
      mdyx[c] += dy![i]! * (x![i]! - mean[c]!) * inv[c]!;
    }
    return x!.map((v, i) => {
      const c = Math.floor(i / inner) % C;
      const xhat = (v - mean[c]!) * inv[c]!;
      return gamma![c]! * inv[c]! * (dy![i]! - mdy[c]! / count - (xhat * mdyx[c]!) / count);
    });
  },
  batchnorm_train_grad_gamma: (node, [dy, x], [xs]) => {
    const { eps } = attrs(node, 'batchnorm_train_grad_gamma');
    const [, C, inner] = around(xs!, 1);
    const { mean, variance } = channelStats(x!, xs!);
    const out = new Float64Array(C);
    for (let i = 0; i < x!.length; i++) {
      const c = Math.floor(i / inner) % C;
      out[c] += (dy![i]! * (x![i]! - mean[c]!)) / Math.sqrt(variance[c]! + eps);
    }
    return Float32Array.from(out);
  },

  l2_normalize: (node, [x]) => {
    const { axis, eps } = attrs(node, 'l2_normalize');
    const [outer, len, inner] = around(node.shape, axis);
    const y = new Float32Array(x!.length);
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let k = 0; k < len; k++) s += x![(o * len + k) * inner + j]! ** 2;
      const d = Math.max(Math.sqrt(s), eps);
      for (let k = 0; k < len; k++) y[(o * len + k) * inner + j] = x![(o * len + k) * inner + j]! / d;
    }
    return y;
  },
  l2_normalize_grad: (node, [dy, x]) => {
    const { axis, eps } = attrs(node, 'l2_normalize_grad');
    const [outer, len, inner] = around(node.shape, axis);
    const dx = new Float32Array(x!.length);
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
      const at = (k: number): number => (o * len + k) * inner + j;
      let s = 0;
      for (let k = 0; k < len; k++) s += x![at(k)]! ** 2;
      const nrm = Math.sqrt(s);
      if (nrm <= eps) {
        for (let k = 0; k < len; k++) dx[at(k)] = dy![at(k)]! / eps;
        continue;
      }
      let dot = 0;
      for (let k = 0; k < len; k++) dot += (dy![at(k)]! * x![at(k)]!) / nrm;
      for (let k = 0; k < len; k++) dx[at(k)] = (dy![at(k)]! - (x![at(k)]! / nrm) * dot) / nrm;
    }
    return dx;
  },
  softmax: (node, [x]) => {
    const [outer, len, inner] = around(node.shape, attrs(node, 'softmax').axis);
    const y = new Float32Array(x!.length);
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
      const at = (k: number): number => (o * len + k) * inner + j;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, x![at(k)]!);
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(x![at(k)]! - m);
      for (let k = 0; k < len; k++) y[at(k)] = Math.exp(x![at(k)]! - m) / s;
    }
    return y;
  },
  softmax_grad: (node, [dy, y]) => {
    const [outer, len, inner] = around(node.shape, attrs(node, 'softmax_grad').axis);
    const dx = new Float32Array(y!.length);
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
      const at = (k: number): number => (o * len + k) * inner + j;
      let dot = 0;
      for (let k = 0; k < len; k++) dot += dy![at(k)]! * y![at(k)]!;
      for (let k = 0; k < len; k++) dx[at(k)] = y![at(k)]! * (dy![at(k)]! - dot);
    }
    return dx;
  },

  softmax_cross_entropy: (node, [z, t], [zs]) => {
    const [N, C] = [zs![0]!, zs![1]!];
    const out = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, z![n * C + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(z![n * C + c]! - m);
      const lse = m + Math.log(s);
      let l = 0;
      for (let c = 0; c < C; c++) l -= t![n * C + c]! * (z![n * C + c]! - lse);
      out[n] = l;
    }
    return out;
  },
  softmax_cross_entropy_grad: (node, [dl, z, t]) => {
    const [N, C] = [node.shape[0]!, node.shape[1]!];
    const out = new Float32Array(N * C);
    for (let n = 0; n < N; n++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, z![n * C + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(z![n * C + c]! - m);
      for (let c = 0; c < C; c++) out[n * C + c] = dl![n]! * (Math.exp(z![n * C + c]! - m) / s - t![n * C + c]!);
    }
    return out;
  },
  one_hot: (node, [labels]) => {
    const { classes } = attrs(node, 'one_hot');
    const out = new Float32Array(labels!.length * classes);
    labels!.forEach((l, n) => (out[n * classes + classIndex(l, n, classes)] = 1));
    return out;
  },

  reshape: (_node, [x]) => x!.slice(),
  concat: (node, xs, shapes) => {
    const axis = attrs(node, 'concat').axis;
    const [outer, total, inner] = around(node.shape, axis);
    const out = new Float32Array(sizeOf(node.shape));
    let at = 0;
    xs.forEach((x, j) => {
      const len = shapes[j]![axis]!;
      for (let o = 0; o < outer; o++) {
        out.set(x.subarray(o * len * inner, (o + 1) * len * inner), (o * total + at) * inner);
      }
      at += len;
    });
    return out;
  },
  slice: (node, [x], [xs]) => {
    const { starts } = attrs(node, 'slice');
    const out = new Float32Array(sizeOf(node.shape));
    const src = new Array<number>(xs!.length);
    forEachIndex(node.shape, (flat, idx) => {
      for (let a = 0; a < idx.length; a++) src[a] = idx[a]! + starts[a]!;
      out[flat] = x![flatOf(xs!, src)]!;
    });
    return out;
  },
  pad: (node, [x], [xs]) => {
    const { before } = attrs(node, 'pad');
    const out = new Float32Array(sizeOf(node.shape));
    const dst = new Array<number>(xs!.length);
    forEachIndex(xs!, (flat, idx) => {
      for (let a = 0; a < idx.length; a++) dst[a] = idx[a]! + (a < 2 ? 0 : before[a - 2]!);
      out[flatOf(node.shape, dst)] = x![flat]!;
    });
    return out;
  },
  space_to_depth: (node, [x], [xs]) => spaceToDepth(x!, xs!, attrs(node, 'space_to_depth').block, true),
  depth_to_space: (node, [y]) => spaceToDepth(y!, node.shape, attrs(node, 'depth_to_space').block, false),
  upsample: (node, [x], [xs]) => {
    const scale = attrs(node, 'upsample').scale;
    const out = new Float32Array(sizeOf(node.shape));
    const src = new Array<number>(xs!.length);
    forEachIndex(node.shape, (flat, idx) => {
      for (let a = 0; a < idx.length; a++) src[a] = a < 2 ? idx[a]! : Math.floor(idx[a]! / scale[a - 2]!);
      out[flat] = x![flatOf(xs!, src)]!;
    });
    return out;
  },
  upsample_grad: (node, [dy], [ys]) => {
    const scale = attrs(node, 'upsample_grad').scale;
    const out = new Float32Array(sizeOf(node.shape));
    const dst = new Array<number>(ys!.length);
    forEachIndex(ys!, (flat, idx) => {
      for (let a = 0; a < idx.length; a++) dst[a] = a < 2 ? idx[a]! : Math.floor(idx[a]! / scale[a - 2]!);
      out[flatOf(node.shape, dst)] += dy![flat]!;
    });
    return out;
  },

  dropout_mask: (node, [seed]) => {
    const { rate, salt } = attrs(node, 'dropout_mask');
    const base = pcg((seed![0]! >>> 0) + pcg(salt));
    const keep = 1 / (1 - rate);
    const out = new Float32Array(sizeOf(node.shape));
    for (let i = 0; i < out.length; i++) {
      const u = (pcg((i + base) >>> 0) >>> 8) / 16777216;
      out[i] = u >= rate ? keep : 0;
    }
    return out;
  },

  lr_schedule: (node, [step]) => {
    const a = attrs(node, 'lr_schedule');
    const t = step![0]!;
    let lr = a.base;
    if (a.kind === 'step') lr = a.base * Math.pow(a.gamma, Math.floor(t / a.stepSize));
    if (a.kind === 'cosine') lr = a.minLr + ((a.base - a.minLr) * (1 + Math.cos((Math.PI * Math.min(t, a.totalSteps)) / a.totalSteps))) / 2;
    return Float32Array.of(lr);
  },
  sgd_apply: (_node, [p, d, lr]) => p!.map((v, i) => v - lr![0]! * d![i]!),
  rmsprop_apply: (node, [p, g, v, lr]) => {
    const { eps } = attrs(node, 'rmsprop_apply');
    return p!.map((x, i) => x - (lr![0]! * g![i]!) / (Math.sqrt(v![i]!) + eps));
  },
  adam_apply: (node, [p, m, v, lr, t]) => {
    const { beta1, beta2, eps } = attrs(node, 'adam_apply');
    const c1 = 1 - Math.pow(beta1, t![0]!);
    const c2 = 1 - Math.pow(beta2, t![0]!);
    return p!.map((x, i) => x - (lr![0]! * (m![i]! / c1)) / (Math.sqrt(v![i]! / c2) + eps));
  },
};

/** space_to_depth (forward = true) or its inverse, with x's NCHW shape `xs` on the spatial side. */
function spaceToDepth(src: Float32Array, xs: readonly number[], b: number, forward: boolean): Float32Array {
  const [N, C, H, W] = [xs[0]!, xs[1]!, xs[2]!, xs[3]!];
  const [Ho, Wo] = [H / b, W / b];
  const out = new Float32Array(src.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const xi = ((n * C + c) * H + h) * W + w;
    const oc = ((h % b) * b + (w % b)) * C + c;
    const yi = ((n * C * b * b + oc) * Ho + Math.floor(h / b)) * Wo + Math.floor(w / b);
    if (forward) out[yi] = src[xi]!;
    else out[xi] = src[yi]!;
  }
  return out;
}
