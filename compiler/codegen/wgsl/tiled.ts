// Register-tiled GEMM-shaped kernels: matmul and convolution as implicit GEMM (forward, input
// gradient, weight gradient; 1D/2D/3D, stride, padding, dilation). Each invocation computes a
// TM x TN tile of outputs in registers; the tile and workgroup shape are a per-device choice.
// Odd sizes: loads use clamped indices and only in-range outputs are stored.

import type { ConvOpAttrs } from '../../ir/ops.ts';
import { sizeOf } from '../../ir/ops.ts';
import { stridesOf } from './kernel.ts';

/** How a device likes its GEMM tiles (software devices: no workgroup memory, small groups). */
export interface Tiling {
  readonly tm: number;
  readonly tn: number;
  readonly wgX: number;
  readonly wgY: number;
  /** Smaller tiles for kernels under `belowMacs` multiply-adds, where compiling costs more than running. */
  readonly compact?: { readonly tm: number; readonly tn: number; readonly belowMacs: number };
}

/**
 * Register tiles for software devices (barriers cost more than they save there). 8 x 8 measured
 * 1.6x faster than 4 x 4 on a ResNet-8 step under SwiftShader (each loaded operand feeds 8 FMAs)
 * but takes SwiftShader about 0.6 s to compile, so small kernels keep 4 x 4.
 */
export const SOFTWARE_TILING: Tiling = { tm: 8, tn: 8, wgX: 8, wgY: 8, compact: { tm: 4, tn: 4, belowMacs: 2 ** 22 } };
/** Larger groups for real GPUs, which hide latency with more invocations in flight. */
export const GPU_TILING: Tiling = { tm: 4, tn: 4, wgX: 16, wgY: 16 };

export function tilingFor(caps: { readonly preferRegisterTiles: boolean; readonly maxComputeInvocationsPerWorkgroup: number }): Tiling {
  const t = caps.preferRegisterTiles ? SOFTWARE_TILING : GPU_TILING;
  return t.wgX * t.wgY <= caps.maxComputeInvocationsPerWorkgroup ? t : SOFTWARE_TILING;
}

/**
 * The device's tiling fitted to one kernel: a few output rows (a 6-channel convolution) become
 * one tile row instead of a padded pair, and the workgroup shrinks to the tiles that exist,
 * keeping its invocation count where the columns allow, so no lanes compute clamped duplicates.
 */
export function fitTiling(device: Tiling, g: { readonly rows: number; readonly cols: number; readonly batch: number; readonly depth: number }): Tiling {
  const { rows, cols } = g;
  const c = device.compact;
  const t = c !== undefined && rows * cols * g.batch * g.depth < c.belowMacs ? { ...device, tm: c.tm, tn: c.tn } : device;
  const tm = rows <= t.tm * 1.5 ? rows : t.tm;
  const wgY = Math.min(t.wgY, Math.ceil(rows / tm));
  const wgX = Math.max(1, Math.min(Math.floor((t.wgX * t.wgY) / wgY), Math.ceil(cols / t.tn), 256));
  return { tm, tn: t.tn, wgX, wgY };
}

/** The pieces a GEMM-shaped kernel is made of. Rows and columns index the output tile. */
export interface GemmShape {
  readonly rows: number;
  readonly cols: number;
  readonly batch: number;
  /** Multiply-adds per output (per batch slice): the reduction's length. */
  readonly depth: number;
  /** Lines run once per tile column j, given `col${j}` (clamped); may define names suffixed _j. */
  colPrologue(j: number): string;
  /** Opening lines of the reduction loop nest, and how many braces close it. */
  readonly loopOpen: string;
  readonly loopDepth: number;
  /** The row operand for tile row r (`row${r}` clamped), inside the loop. */
  aExpr(r: number): string;
  /** Lines defining `b${j}`, the column operand for tile column j, inside the loop. */
  bLines(j: number): string;
  /** The flat output index of (row, col) for tile column j (batch index `bz`). */
  outIndex(row: string, col: string, j: number): string;
}

/** The main function of a tiled kernel; outputs go through `store(index, value)`. */
export function tiledMain(g: GemmShape, device: Tiling): { main: string; workgroups: [number, number, number] } {
  const t = fitTiling(device, g);
  const R = [...Array(t.tm).keys()];
  const C = [...Array(t.tn).keys()];
  const lines: string[] = [
    `@compute @workgroup_size(${t.wgX}, ${t.wgY}, 1)`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>) {',
    `  let colBase = gid.x * ${t.tn}u;`,
    `  let rowBase = gid.y * ${t.tm}u;`,
    '  let bz = gid.z;',
    ...R.map((r) => `  let row${r} = min(rowBase + ${r}u, ${g.rows - 1}u);`),
    ...C.map((j) => `  let col${j} = min(colBase + ${j}u, ${g.cols - 1}u);\n${g.colPrologue(j)}`),
    ...R.flatMap((r) => C.map((j) => `  var acc${r}_${j} = 0.0;`)),
    g.loopOpen,
    ...R.map((r) => `    let a${r} = ${g.aExpr(r)};`),
    ...C.map((j) => g.bLines(j)),
    ...R.flatMap((r) => C.map((j) => `    acc${r}_${j} = fma(a${r}, b${j}, acc${r}_${j});`)),
    '  }'.repeat(g.loopDepth),
    ...R.flatMap((r) =>
      C.map((j) => `  if (rowBase + ${r}u < ${g.rows}u && colBase + ${j}u < ${g.cols}u) { store(${g.outIndex(`(rowBase + ${r}u)`, `(colBase + ${j}u)`, j)}, acc${r}_${j}); }`),
    ),
    '}',
  ];
  const workgroups: [number, number, number] = [Math.ceil(g.cols / (t.tn * t.wgX)), Math.ceil(g.rows / (t.tm * t.wgY)), g.batch];
  return { main: lines.join('\n'), workgroups };
}

/** matmul op(a) @ op(b), rank 2 or 3 (batched on axis 0); a, b are binding names. */
export function matmulGemm(a: string, b: string, aShape: readonly number[], bShape: readonly number[], transA: boolean, transB: boolean): GemmShape {
  const r = aShape.length;
  const batch = r === 3 ? aShape[0]! : 1;
  const [ar, ac] = [aShape[r - 2]!, aShape[r - 1]!];
  const [br, bc] = [bShape[r - 2]!, bShape[r - 1]!];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const p = transB ? br : bc;
  const aAt = (row: string): string => (transA ? `k * ${ac}u + ${row}` : `${row} * ${ac}u + k`);
  const bAt = (col: string): string => (transB ? `${col} * ${bc}u + k` : `k * ${bc}u + ${col}`);
  return {
    rows: m,
    cols: p,
    batch,
    depth: k,
    colPrologue: () => '',
    loopOpen: `  for (var k = 0u; k < ${k}u; k++) {`,
    loopDepth: 1,
    aExpr: (row) => `${a}[bz * ${ar * ac}u + ${aAt(`row${row}`)}]`,
    bLines: (j) => `    let b${j} = ${b}[bz * ${br * bc}u + ${bAt(`col${j}`)}];`,
    outIndex: (row, col) => `bz * ${m * p}u + ${row} * ${p}u + ${col}`,
  };
}

type ConvAttrs = Omit<ConvOpAttrs, 'op'>;

const axesOf = (rank: number): number[] => [...Array(rank).keys()];

/** Lines splitting `flat` (u32) into i32 coordinates `${name}${a}` of `dims`. */
function splitCoords(flat: string, dims: readonly number[], name: string, indent = '  '): string {
  const st = stridesOf(dims);
  return dims.map((d, a) => `${indent}let ${name}${a} = i32((${flat} / ${st[a]}u) % ${d}u);`).join('\n');
}

/** Flat index of i32 coordinates `${name}${a}` (or expressions) in `dims`, as u32. */
function joinCoords(cs: readonly string[], dims: readonly number[]): string {
  const st = stridesOf(dims);
  return cs.map((c, a) => `u32(${c}) * ${st[a]}u`).join(' + ') || '0u';
}

/**
 * One flat reduction loop over the product of `dims`, splitting its counter into i32 variables
 * `vars` (u32 for the first when `firstU32`). A flat loop keeps shader compilers from unrolling
 * a whole nest of small constant loops (SwiftShader takes minutes on those).
 */
function flatLoop(vars: readonly string[], dims: readonly number[], firstU32: boolean, splits = 1): string {
  const st = stridesOf(dims);
  const total = sizeOf(dims);
  const chunk = Math.ceil(total / splits);
  // Split K: batch index bz takes the slice [bz * chunk, (bz + 1) * chunk) of the reduction.
  const range = splits === 1 ? `var kk = 0u; kk < ${total}u` : `var kk = bz * ${chunk}u; kk < min(bz * ${chunk}u + ${chunk}u, ${total}u)`;
  const lines = [`  for (${range}; kk++) {`];
  vars.forEach((v, a) => {
    const e = `(kk / ${st[a]}u) % ${dims[a]}u`;
    lines.push(a === 0 && firstU32 ? `    let ${v} = ${e};` : `    let ${v} = i32(${e});`);
  });
  return lines.join('\n');
}

/** Forward convolution: rows = output channels, columns = (n, output position). */
export function convForwardGemm(x: string, w: string, xShape: readonly number[], wShape: readonly number[], outShape: readonly number[], a: ConvAttrs): GemmShape {
  const ax = axesOf(a.rank);
  const [n, ci] = [xShape[0]!, xShape[1]!];
  const co = wShape[0]!;
  const S = xShape.slice(2);
  const K = wShape.slice(2);
  const O = outShape.slice(2);
  const osz = sizeOf(O);
  const ksz = sizeOf(K);
  const xLen = sizeOf(xShape);
  return {
    rows: co,
    cols: n * osz,
    batch: 1,
    depth: ci * ksz,
    colPrologue: (j) =>
      `  let n_${j} = col${j} / ${osz}u;\n  let sp_${j} = col${j} % ${osz}u;\n${splitCoords(`sp_${j}`, O, `o${j}_`)}\n` +
      ax.map((d) => `  let base${j}_${d} = o${j}_${d} * ${a.stride[d]} - ${a.padBefore[d]};`).join('\n'),
    loopOpen: flatLoop(['ci', ...ax.map((d) => `k${d}`)], [ci, ...K], true),
    loopDepth: 1,
    aExpr: (r) => `${w}[(row${r} * ${ci}u + ci) * ${ksz}u + ${joinCoords(ax.map((d) => `k${d}`), K)}]`,
    bLines: (j) => {
      const q = ax.map((d) => `(base${j}_${d} + k${d} * ${a.dilation[d]})`);
      const inb = ax.map((d) => `(u32${q[d]} < ${S[d]}u)`).join(' & ');
      return `    let xi${j} = (n_${j} * ${ci}u + ci) * ${sizeOf(S)}u + ${joinCoords(q, S)};\n` +
        `    let b${j} = select(0.0, ${x}[min(xi${j}, ${xLen - 1}u)], ${inb});`;
    },
    outIndex: (row, _col, j) => `(n_${j} * ${co}u + ${row}) * ${osz}u + sp_${j}`,
  };
}

/** Input gradient: rows = input channels, columns = (n, input position); sums over (co, k). */
export function convGradInputGemm(dy: string, w: string, dyShape: readonly number[], wShape: readonly number[], xShape: readonly number[], a: ConvAttrs): GemmShape {
  const ax = axesOf(a.rank);
  const [n, ci] = [xShape[0]!, xShape[1]!];
  const co = wShape[0]!;
  const S = xShape.slice(2);
  const K = wShape.slice(2);
  const O = dyShape.slice(2);
  const ssz = sizeOf(S);
  const ksz = sizeOf(K);
  const dyLen = sizeOf(dyShape);
  return {
    rows: ci,
    cols: n * ssz,
    batch: 1,
    depth: co * ksz,
    colPrologue: (j) =>
      `  let n_${j} = col${j} / ${ssz}u;\n  let sp_${j} = col${j} % ${ssz}u;\n${splitCoords(`sp_${j}`, S, `s${j}_`)}\n` +
      ax.map((d) => `  let t${j}_${d} = s${j}_${d} + ${a.padBefore[d]};`).join('\n'),
    loopOpen: flatLoop(['co', ...ax.map((d) => `k${d}`)], [co, ...K], true),
    loopDepth: 1,
    aExpr: (r) => `${w}[(co * ${ci}u + row${r}) * ${ksz}u + ${joinCoords(ax.map((d) => `k${d}`), K)}]`,
    bLines: (j) => {
      const lines = ax.map((d) => `    let u${j}_${d} = t${j}_${d} - k${d} * ${a.dilation[d]};\n    let p${j}_${d} = u${j}_${d} / ${a.stride[d]};`);
      const ok = ax.map((d) => (a.stride[d] === 1 ? `(u32(u${j}_${d}) < ${O[d]}u)` : `(u32(u${j}_${d}) < ${a.stride[d]! * O[d]!}u) & (u${j}_${d} % ${a.stride[d]} == 0)`)).join(' & ');
      const at = `(n_${j} * ${co}u + co) * ${sizeOf(O)}u + ${joinCoords(ax.map((d) => `p${j}_${d}`), O)}`;
      return `${lines.join('\n')}\n    let b${j} = select(0.0, ${dy}[min(${at}, ${dyLen - 1}u)], ${ok});`;
    },
    outIndex: (row, _col, j) => `(n_${j} * ${ci}u + ${row}) * ${ssz}u + sp_${j}`,
  };
}

/**
 * The column matrix of the input gradient, W^T dy: rows = (ci, kernel offset), columns = (n,
 * output position); sums over output channels. A gather (col2im) then sums each input element's taps.
 */
export function convGradColumnsGemm(dy: string, w: string, dyShape: readonly number[], wShape: readonly number[]): GemmShape {
  const [n, co] = [dyShape[0]!, dyShape[1]!];
  const rows = sizeOf(wShape) / co;
  const osz = sizeOf(dyShape.slice(2));
  return {
    rows,
    cols: n * osz,
    batch: 1,
    depth: co,
    colPrologue: (j) => `  let at${j} = (col${j} / ${osz}u) * ${co * osz}u + col${j} % ${osz}u;`,
    loopOpen: `  for (var co = 0u; co < ${co}u; co++) {`,
    loopDepth: 1,
    aExpr: (r) => `${w}[co * ${rows}u + row${r}]`,
    bLines: (j) => `    let b${j} = ${dy}[at${j} + co * ${osz}u];`,
    outIndex: (row, col) => `${row} * ${n * osz}u + ${col}`,
  };
}

/**
 * Weight gradient: rows = output channels, columns = (ci, kernel offset); sums over (n, output
 * position). With `splits` > 1 each batch slice sums one part of that range into its own copy of
 * the gradient (split K, for the few output tiles and long reduction of early layers).
 */
export function convGradWeightGemm(x: string, dy: string, xShape: readonly number[], dyShape: readonly number[], wShape: readonly number[], a: ConvAttrs, splits = 1): GemmShape {
  const ax = axesOf(a.rank);
  const [n, ci] = [xShape[0]!, xShape[1]!];
  const co = wShape[0]!;
  const S = xShape.slice(2);
  const K = wShape.slice(2);
  const O = dyShape.slice(2);
  const ksz = sizeOf(K);
  const xLen = sizeOf(xShape);
  return {
    rows: co,
    cols: ci * ksz,
    batch: splits,
    depth: Math.ceil((n * sizeOf(O)) / splits),
    colPrologue: (j) =>
      `  let ci_${j} = col${j} / ${ksz}u;\n  let kf_${j} = col${j} % ${ksz}u;\n${splitCoords(`kf_${j}`, K, `k${j}_`)}\n` +
      ax.map((d) => `  let off${j}_${d} = k${j}_${d} * ${a.dilation[d]} - ${a.padBefore[d]};`).join('\n'),
    loopOpen: flatLoop(['nn', ...ax.map((d) => `o${d}`)], [n, ...O], true, splits),
    loopDepth: 1,
    aExpr: (r) => `${dy}[(nn * ${co}u + row${r}) * ${sizeOf(O)}u + ${joinCoords(ax.map((d) => `o${d}`), O)}]`,
    bLines: (j) => {
      const q = ax.map((d) => `(o${d} * ${a.stride[d]} + off${j}_${d})`);
      const inb = ax.map((d) => `(u32${q[d]} < ${S[d]}u)`).join(' & ');
      return `    let xi${j} = (nn * ${ci}u + ci_${j}) * ${sizeOf(S)}u + ${joinCoords(q, S)};\n` +
        `    let b${j} = select(0.0, ${x}[min(xi${j}, ${xLen - 1}u)], ${inb});`;
    },
    outIndex: (row, col) => `${splits === 1 ? '' : `bz * ${co * ci * ksz}u + `}${row} * ${ci * ksz}u + ${col}`,
  };
}
