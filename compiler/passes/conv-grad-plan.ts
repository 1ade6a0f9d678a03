// How a convolution's gradients are computed. The direct forms are one implicit-GEMM kernel each;
// two restructurings are chosen by estimated work:
// - split K: the weight gradient of an early layer has few output tiles over a long reduction
//   (n x output positions), so slices of the reduction run as separate workgroups and a small
//   kernel sums them (where the optimizer update then fuses);
// - columns: the input gradient as a matrix product W^T dy into one column per (n, output
//   position), then a gather summing each input element's taps. The direct form computes every
//   tap of every input position and discards those outside dy: half of them for an unpadded 5x5
//   convolution, three quarters for a stride-2 one.

import { sizeOf } from '../ir/ops.ts';
import { fitTiling, type Tiling } from '../codegen/wgsl/tiled.ts';

/** `auto` decides by estimated work; tests force either form to check both. */
export type ConvGradForm = 'auto' | 'direct' | 'restructured';

/** Workgroups a split weight gradient aims for: enough to fill the device's cores. */
const TARGET_GROUPS = 64;
/** Shortest reduction slice worth its own workgroup. */
const MIN_SLICE = 256;
/** Largest scratch tensor a restructuring may add (well under every device's binding limit). */
const MAX_SCRATCH_BYTES = 32 * 2 ** 20;
/** Splits when forced: a count that does not divide the small test shapes evenly. */
const FORCED_SPLITS = 4;

function tileGroups(t: Tiling, rows: number, cols: number, depth: number): number {
  const f = fitTiling(t, { rows, cols, macs: rows * cols * depth });
  return Math.ceil(cols / (f.tn * f.wgX)) * Math.ceil(rows / (f.tm * f.wgY));
}

function paddedRows(t: Tiling, rows: number, cols: number, depth: number): number {
  const f = fitTiling(t, { rows, cols, macs: rows * cols * depth });
  return Math.ceil(rows / f.tm) * f.tm;
}

/** Reduction slices for the weight gradient of w from x and dy (1: one kernel, no sum). */
export function weightGradSplits(dyShape: readonly number[], wShape: readonly number[], tiling: Tiling, form: ConvGradForm): number {
  if (form === 'direct') return 1;
  const rows = wShape[0]!;
  const cols = sizeOf(wShape) / rows;
  const k = dyShape[0]! * sizeOf(dyShape.slice(2));
  const most = Math.floor(MAX_SCRATCH_BYTES / (4 * sizeOf(wShape)));
  const want = form === 'restructured' ? FORCED_SPLITS : Math.min(Math.floor(k / MIN_SLICE), Math.ceil(TARGET_GROUPS / tileGroups(tiling, rows, cols, k)));
  const splits = Math.min(want, most);
  return splits >= 2 ? splits : 1;
}

/** Whether the input gradient goes through a column matrix (see above). */
export function inputGradByColumns(dyShape: readonly number[], wShape: readonly number[], xShape: readonly number[], tiling: Tiling, form: ConvGradForm): boolean {
  if (form === 'direct') return false;
  const [n, ci, co] = [xShape[0]!, xShape[1]!, wShape[0]!];
  const ksz = sizeOf(wShape.slice(2));
  const inCols = n * sizeOf(xShape.slice(2));
  const outCols = n * sizeOf(dyShape.slice(2));
  const columns = ci * ksz * outCols;
  if (4 * columns > MAX_SCRATCH_BYTES) return false;
  if (form === 'restructured') return true;
  const direct = paddedRows(tiling, ci, inCols, co * ksz) * inCols * co * ksz;
  // The gather reads each column entry once; count it as two multiply-adds.
  const restructured = paddedRows(tiling, ci * ksz, outCols, co) * outCols * co + 2 * columns;
  return restructured < 0.5 * direct;
}
