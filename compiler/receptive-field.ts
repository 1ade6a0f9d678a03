// Each layer's view of the input: per spatial axis, how many input pixels one output unit sees
// (size), how far apart neighbouring units' views are (stride, the "jump"), and where the first
// unit's view is centred (start, in input pixels, pixel centres at 0.5, 1.5, ...). The recurrence
// of Araujo et al. (Distill, 2019): r_out = r_in + (k - 1) j_in, j_out = j_in s,
// start_out = start_in + ((k - 1)/2 - p) j_in, with a dilated kernel's k = d (k - 1) + 1.

import type { LayerNode, ModelGraph, Shape } from './graph.ts';
import { definitionOf } from './layers/index.ts';

export interface ReceptiveField {
  readonly size: readonly number[];
  readonly stride: readonly number[];
  readonly start: readonly number[];
}

/** Spatial axes of a channels-last shape: all but the last, for images, signals and volumes. */
function spatialRank(shape: Shape): number {
  return shape.length >= 2 ? shape.length - 1 : 0;
}

/** The field after a window of `kernel` (dilated) moving by `stride`, padded by `padBefore`. */
export function windowField(rf: ReceptiveField, kernel: readonly number[], stride: readonly number[], padBefore: readonly number[], dilation?: readonly number[]): ReceptiveField {
  const k = kernel.map((f, i) => (dilation?.[i] ?? 1) * (f - 1) + 1);
  return {
    size: rf.size.map((r, i) => r + (k[i]! - 1) * rf.stride[i]!),
    stride: rf.stride.map((j, i) => j * stride[i]!),
    start: rf.start.map((s, i) => s + ((k[i]! - 1) / 2 - padBefore[i]!) * rf.stride[i]!),
  };
}

/** A layer's field from its inputs' (undefined: the layer's units see the whole input). */
function fieldOf(layer: LayerNode, inputs: readonly (ReceptiveField | undefined)[]): ReceptiveField | undefined {
  const first = inputs[0];
  if (!first || spatialRank(layer.shape) !== first.size.length) return undefined;
  const known = inputs.filter((f) => f !== undefined);
  return known.length === inputs.length ? definitionOf(layer.attrs).receptiveField(layer.attrs, known) : undefined;
}

/** The receptive field of every input and layer with spatial axes, by name. */
export function receptiveFields(graph: ModelGraph): Map<string, ReceptiveField> {
  const out = new Map<string, ReceptiveField>();
  for (const input of graph.inputs) {
    const rank = spatialRank(input.shape);
    if (rank > 0) out.set(input.name, { size: Array(rank).fill(1), stride: Array(rank).fill(1), start: Array(rank).fill(0.5) });
  }
  for (const layer of graph.layers) {
    const rf = fieldOf(layer, layer.inputs.map((n) => out.get(n)));
    if (rf) out.set(layer.name, rf);
  }
  return out;
}

/** `196/16` when every axis agrees, else `196x100/16x8`. */
export function formatReceptiveField(rf: Pick<ReceptiveField, 'size' | 'stride'> | undefined): string {
  if (!rf) return 'all';
  const axes = (v: readonly number[]): string => (v.every((x) => x === v[0]) ? String(v[0]) : v.join('x'));
  return `${axes(rf.size)}/${axes(rf.stride)}`;
}
