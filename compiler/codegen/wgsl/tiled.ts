// Tiled GEMM-shaped kernels: matmul and convolution as implicit GEMM (forward, input gradient,
// weight gradient; 1D/2D/3D, stride, padding, dilation). Each invocation computes a TM x TN tile
// of outputs in registers. How operands reach the registers is a per-device choice: straight from
// storage (software devices, where barriers cost more than they save), or staged through
// workgroup memory a K-slice at a time (real GPUs, where each staged operand then feeds a whole
// workgroup's tiles). Odd sizes: loads use clamped indices and only in-range outputs are stored.

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
  /** Stage operands through workgroup memory, `bk` reduction steps at a time. */
  readonly shared?: { readonly bk: number };
}

/**
 * Register tiles for software devices (barriers cost more than they save there). 8 x 8 measured
 * 1.6x faster than 4 x 4 on a ResNet-8 step under SwiftShader (each loaded operand feeds 8 FMAs)
 * but takes SwiftShader about 0.6 s to compile, so small kernels keep 4 x 4.
 */
export const SOFTWARE_TILING: Tiling = { tm: 8, tn: 8, wgX: 8, wgY: 8, compact: { tm: 4, tn: 4, belowMacs: 2 ** 22 } };
/**
 * Real GPUs: 16 x 16 invocations of 4 x 4 tiles share a 64 x 64 output block whose operands are
 * staged through workgroup memory 16 reduction steps at a time (8 KiB of the 16 KiB every device
 * offers).
 */
export const GPU_TILING: Tiling = { tm: 4, tn: 4, wgX: 16, wgY: 16, shared: { bk: 16 } };

export function tilingFor(caps: { readonly preferRegisterTiles: boolean; readonly maxComputeInvocationsPerWorkgroup: number }): Tiling {
  const t = caps.preferRegisterTiles ? SOFTWARE_TILING : GPU_TILING;
  return t.wgX * t.wgY <= caps.maxComputeInvocationsPerWorkgroup ? t : SOFTWARE_TILING;
}

/**
 * The device's tiling fitted to one kernel: a few output rows (a 6-channel convolution) become
 * one tile row instead of a padded pair, and the workgroup shrinks to the tiles that exist,
 * keeping its invocation count where the columns allow, so no lanes compute clamped duplicates.
 */
export function fitTiling(device: Tiling, g: { readonly rows: number; readonly cols: number; readonly macs: number }): Tiling {
  const { rows, cols } = g;
  const c = device.compact;
  const t = c !== undefined && g.macs < c.belowMacs ? { ...device, tm: c.tm, tn: c.tn } : device;
  const tm = rows <= t.tm * 1.5 ? rows : t.tm;
  const wgY = Math.min(t.wgY, Math.ceil(rows / tm));
  // Staged operands must fit the 16 KiB of workgroup memory every device offers.
  const widest = t.shared === undefined ? 256 : Math.floor((4096 / t.shared.bk - tm * wgY) / t.tn);
  const wgX = Math.max(1, Math.min(Math.floor((t.wgX * t.wgY) / wgY), Math.ceil(cols / t.tn), widest));
  return { ...t, tm, wgX, wgY, compact: undefined };
}

/** Multiply-adds of a whole GEMM-shaped kernel. */
const macsOf = (g: GemmShape): number => g.rows * g.cols * g.depth * (g.splits === undefined ? g.batch : 1);

/** The pieces a GEMM-shaped kernel is made of. Rows and columns index the output tile. */
export interface GemmShape {
  readonly rows: number;
  readonly cols: number;
  /** Grid slices on z, as `bz`: matmul batches, or the reduction's slices when `splits` is set. */
  readonly batch: number;
  /** The reduction's length: multiply-adds per output. */
  readonly depth: number;
  /** Split K: `batch` slices each sum ceil(depth / batch) steps of the reduction. */
  readonly splits?: number;
  /** Lines run once per tile column j, given `col${j}` (clamped); may define names suffixed _j. */
  colPrologue(j: number): string;
  /** Lines defining the reduction variables the operands read, from the u32 reduction step `kk`. */
  kVars(kk: string): string;
  /** The row operand for tile row r (`row${r}` clamped), after kVars. */
  aExpr(r: number): string;
  /** Lines defining `b${j}`, the column operand for tile column j, after kVars. */
  bLines(j: number): string;
  /** The flat output index of (row, col) for tile column j (batch index `bz`). */
  outIndex(row: string, col: string, j: number): string;
}

/** The main function of a tiled kernel; outputs go through `store(index, value)`. */
export function tiledMain(g: GemmShape, device: Tiling): { main: string; workgroups: [number, number, number] } {
  const t = fitTiling(device, { rows: g.rows, cols: g.cols, macs: macsOf(g) });
  const R = [...Array(t.tm).keys()];
  const C = [...Array(t.tn).keys()];
  const chunk = Math.ceil(g.depth / (g.splits ?? 1));
  const range = g.splits === undefined ? [`0u`, `${g.depth}u`] : [`bz * ${chunk}u`, `min(bz * ${chunk}u + ${chunk}u, ${g.depth}u)`];
  const fmas = R.flatMap((r) => C.map((j) => `    acc${r}_${j} = fma(a${r}, b${j}, acc${r}_${j});`));
  const body = t.shared === undefined
    ? [
      `  for (var kk = ${range[0]}; kk < kEnd; kk++) {`,
      g.kVars('kk'),
      ...R.map((r) => `    let a${r} = ${g.aExpr(r)};`),
      ...C.map((j) => g.bLines(j)),
      ...fmas,
      '  }',
    ]
    : sharedLoop(g, t, range[0]!, fmas);
  // The tile's clamped rows and columns: read by the register loop, and by the stores. The staged
  // loop's loads define their own, so there they come after it.
  const tileVars = [
    ...R.map((r) => `  let row${r} = min(rowBase + ${r}u, ${g.rows - 1}u);`),
    ...C.map((j) => `  let col${j} = min(colBase + ${j}u, ${g.cols - 1}u);\n${g.colPrologue(j)}`),
  ];
  const lines: string[] = [
    ...(t.shared === undefined ? [] : sharedDecls(t)),
    `@compute @workgroup_size(${t.wgX}, ${t.wgY}, 1)`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {',
    `  let colBase = gid.x * ${t.tn}u;`,
    `  let rowBase = gid.y * ${t.tm}u;`,
    // From workgroup_id: uniform across the group, as the staged loop's barriers require.
    '  let bz = wid.z;',
    `  let kEnd = ${range[1]};`,
    ...R.flatMap((r) => C.map((j) => `  var acc${r}_${j} = 0.0;`)),
    ...(t.shared === undefined ? [...tileVars, ...body] : [...body, ...tileVars]),
    ...R.flatMap((r) =>
      C.map((j) => `  if (rowBase + ${r}u < ${g.rows}u && colBase + ${j}u < ${g.cols}u) { store(${g.outIndex(`(rowBase + ${r}u)`, `(colBase + ${j}u)`, j)}, acc${r}_${j}); }`),
    ),
    '}',
  ];
  const workgroups: [number, number, number] = [Math.ceil(g.cols / (t.tn * t.wgX)), Math.ceil(g.rows / (t.tm * t.wgY)), g.batch];
  return { main: lines.join('\n'), workgroups };
}

function sharedDecls(t: Tiling): string[] {
  const bk = t.shared!.bk;
  return [`var<workgroup> tileA: array<f32, ${bk * t.tm * t.wgY}>;`, `var<workgroup> tileB: array<f32, ${bk * t.tn * t.wgX}>;`, ''];
}

/**
 * The reduction staged through workgroup memory: per slice of bk steps, the workgroup's
 * invocations load the block's A rows and B columns together (each in its own scope, since the
 * operand code defines the shape's names), wait, and every invocation runs its tile from there.
 * Rows and columns past the edge load clamped copies; steps past the end load zeros. Every
 * invocation reaches both barriers: none returns early.
 */
function sharedLoop(g: GemmShape, t: Tiling, kStart: string, fmas: readonly string[]): string[] {
  const bk = t.shared!.bk;
  const [bm, bn] = [t.tm * t.wgY, t.tn * t.wgX];
  const threads = t.wgX * t.wgY;
  const R = [...Array(t.tm).keys()];
  const C = [...Array(t.tn).keys()];
  return [
    `  let tid = lid.y * ${t.wgX}u + lid.x;`,
    `  let blockRow = rowBase - lid.y * ${t.tm}u;`,
    `  let blockCol = colBase - lid.x * ${t.tn}u;`,
    `  for (var k0 = ${kStart}; k0 < kEnd; k0 += ${bk}u) {`,
    `    for (var e = tid; e < ${bm * bk}u; e += ${threads}u) {`,
    `      let kk = k0 + e / ${bm}u;`,
    `      let row0 = min(blockRow + e % ${bm}u, ${g.rows - 1}u);`,
    `      var v = 0.0;`,
    `      if (kk < kEnd) {
${g.kVars('kk')}
        v = ${g.aExpr(0)};
      }`,
    `      tileA[e] = v;`,
    '    }',
    `    for (var e = tid; e < ${bn * bk}u; e += ${threads}u) {`,
    `      let kk = k0 + e / ${bn}u;`,
    `      let col0 = min(blockCol + e % ${bn}u, ${g.cols - 1}u);`,
    g.colPrologue(0),
    `      var v = 0.0;`,
    `      if (kk < kEnd) {
${g.kVars('kk')}
${g.bLines(0)}
        v = b0;
      }`,
    `      tileB[e] = v;`,
    '    }',
    '    workgroupBarrier();',
    `    for (var q = 0u; q < ${bk}u; q++) {`,
    ...R.map((r) => `    let a${r} = tileA[q * ${bm}u + lid.y * ${t.tm}u + ${r}u];`),
    ...C.map((j) => `    let b${j} = tileB[q * ${bn}u + lid.x * ${t.tn}u + ${j}u];`),
    ...fmas,
    '    }',
    '    workgroupBarrier();',
    '  }',
  ];
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
    kVars: (kk) => `    let k = ${kk};`,
    aExpr: (row) => `${a}[bz * ${ar * ac}u + ${aAt(`row${row}`)}]`,
    bLines: (j) => `    let b${j} = ${b}[bz * ${br * bc}u + ${bAt(`col${j}`)}];`,
    outIndex: (row, col) => `bz * ${m * p}u + ${row} * ${p}u + ${col}`,
  };
}

type ConvAttrs = Omit<ConvOpAttrs, 'op'>;

const axesOf = (rank: number): number[] => [...Array(rank).keys()];

/** The sizes a convolution's kernels fold in: batch, channels, and the spatial dims of x, w and y. */
function convDims(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], rank: number) {
  const [S, K, O] = [xShape.slice(2), wShape.slice(2), yShape.slice(2)];
  return { ax: axesOf(rank), n: xShape[0]!, ci: xShape[1]!, co: wShape[0]!, S, K, O, ssz: sizeOf(S), ksz: sizeOf(K), osz: sizeOf(O) };
}

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
 * The reduction variables `vars` (i32; u32 for the first when `firstU32`) of flat step `kk` over
 * the product of `dims`. One flat loop keeps shader compilers from unrolling a whole nest of small
 * constant loops (SwiftShader takes minutes on those).
 */
function flatVars(vars: readonly string[], dims: readonly number[], firstU32: boolean): (kk: string) => string {
  const st = stridesOf(dims);
  return (kk) =>
    vars
      .map((v, a) => {
        const e = `(${kk} / ${st[a]}u) % ${dims[a]}u`;
        return a === 0 && firstU32 ? `    let ${v} = ${e};` : `    let ${v} = i32(${e});`;
      })
      .join('\n');
}

/** Forward convolution: rows = output channels, columns = (n, output position). */
export function convForwardGemm(x: string, w: string, xShape: readonly number[], wShape: readonly number[], outShape: readonly number[], a: ConvAttrs): GemmShape {
  const { ax, n, ci, co, S, K, O, ssz, osz, ksz } = convDims(xShape, wShape, outShape, a.rank);
  const xLen = sizeOf(xShape);
  return {
    rows: co,
    cols: n * osz,
    batch: 1,
    depth: ci * ksz,
    colPrologue: (j) =>
      `  let n_${j} = col${j} / ${osz}u;\n  let sp_${j} = col${j} % ${osz}u;\n${splitCoords(`sp_${j}`, O, `o${j}_`)}\n` +
      ax.map((d) => `  let base${j}_${d} = o${j}_${d} * ${a.stride[d]} - ${a.padBefore[d]};`).join('\n'),
    kVars: flatVars(['ci', ...ax.map((d) => `k${d}`)], [ci, ...K], true),
    aExpr: (r) => `${w}[(row${r} * ${ci}u + ci) * ${ksz}u + ${joinCoords(ax.map((d) => `k${d}`), K)}]`,
    bLines: (j) => {
      const q = ax.map((d) => `(base${j}_${d} + k${d} * ${a.dilation[d]})`);
      const inb = ax.map((d) => `(u32${q[d]} < ${S[d]}u)`).join(' & ');
      return `    let xi${j} = (n_${j} * ${ci}u + ci) * ${ssz}u + ${joinCoords(q, S)};\n` +
        `    let b${j} = select(0.0, ${x}[min(xi${j}, ${xLen - 1}u)], ${inb});`;
    },
    outIndex: (row, _col, j) => `(n_${j} * ${co}u + ${row}) * ${osz}u + sp_${j}`,
  };
}

/** Input gradient: rows = input channels, columns = (n, input position); sums over (co, k). */
export function convGradInputGemm(dy: string, w: string, dyShape: readonly number[], wShape: readonly number[], xShape: readonly number[], a: ConvAttrs): GemmShape {
  const { ax, n, ci, co, K, S, O, ssz, osz, ksz } = convDims(xShape, wShape, dyShape, a.rank);
  const dyLen = sizeOf(dyShape);
  return {
    rows: ci,
    cols: n * ssz,
    batch: 1,
    depth: co * ksz,
    colPrologue: (j) =>
      `  let n_${j} = col${j} / ${ssz}u;\n  let sp_${j} = col${j} % ${ssz}u;\n${splitCoords(`sp_${j}`, S, `s${j}_`)}\n` +
      ax.map((d) => `  let t${j}_${d} = s${j}_${d} + ${a.padBefore[d]};`).join('\n'),
    kVars: flatVars(['co', ...ax.map((d) => `k${d}`)], [co, ...K], true),
    aExpr: (r) => `${w}[(co * ${ci}u + row${r}) * ${ksz}u + ${joinCoords(ax.map((d) => `k${d}`), K)}]`,
    bLines: (j) => {
      const lines = ax.map((d) => `    let u${j}_${d} = t${j}_${d} - k${d} * ${a.dilation[d]};\n    let p${j}_${d} = u${j}_${d} / ${a.stride[d]};`);
      const ok = ax.map((d) => (a.stride[d] === 1 ? `(u32(u${j}_${d}) < ${O[d]}u)` : `(u32(u${j}_${d}) < ${a.stride[d]! * O[d]!}u) & (u${j}_${d} % ${a.stride[d]} == 0)`)).join(' & ');
      const at = `(n_${j} * ${co}u + co) * ${osz}u + ${joinCoords(ax.map((d) => `p${j}_${d}`), O)}`;
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
    kVars: (kk) => `    let co = ${kk};`,
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
  const { ax, n, ci, co, S, K, O, ssz, osz, ksz } = convDims(xShape, wShape, dyShape, a.rank);
  const xLen = sizeOf(xShape);
  return {
    rows: co,
    cols: ci * ksz,
    batch: splits,
    depth: n * osz,
    splits: splits === 1 ? undefined : splits,
    colPrologue: (j) =>
      `  let ci_${j} = col${j} / ${ksz}u;\n  let kf_${j} = col${j} % ${ksz}u;\n${splitCoords(`kf_${j}`, K, `k${j}_`)}\n` +
      ax.map((d) => `  let off${j}_${d} = k${j}_${d} * ${a.dilation[d]} - ${a.padBefore[d]};`).join('\n'),
    kVars: flatVars(['nn', ...ax.map((d) => `o${d}`)], [n, ...O], true),
    aExpr: (r) => `${dy}[(nn * ${co}u + row${r}) * ${osz}u + ${joinCoords(ax.map((d) => `o${d}`), O)}]`,
    bLines: (j) => {
      const q = ax.map((d) => `(o${d} * ${a.stride[d]} + off${j}_${d})`);
      const inb = ax.map((d) => `(u32${q[d]} < ${S[d]}u)`).join(' & ');
      return `    let xi${j} = (nn * ${ci}u + ci_${j}) * ${ssz}u + ${joinCoords(q, S)};\n` +
        `    let b${j} = select(0.0, ${x}[min(xi${j}, ${xLen - 1}u)], ${inb});`;
    },
    outIndex: (row, col) => `${splits === 1 ? '' : `bz * ${co * ci * ksz}u + `}${row} * ${ci * ksz}u + ${col}`,
  };
}
