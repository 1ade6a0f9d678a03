// Maps the language's channels-last shapes without batch to the IR's PyTorch layout with batch.

import type { Shape } from '../graph.ts';

/** [F] -> [N, F]; [L, C] -> [N, C, L]; [H, W, C] -> [N, C, H, W]; [D, H, W, C] -> [N, C, D, H, W]. */
export function irShape(shape: Shape, batch: number): number[] {
  if (shape.length <= 1) return [batch, ...shape];
  return [batch, shape[shape.length - 1]!, ...shape.slice(0, -1)];
}

/** Every spatial axis of an IR activation of `rank` axes (2..rank-1). */
export function spatialAxes(rank: number): number[] {
  const out: number[] = [];
  for (let a = 2; a < rank; a++) out.push(a);
  return out;
}
