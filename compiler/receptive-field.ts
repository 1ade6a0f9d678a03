// Each layer's view of the input: per spatial axis, how many input pixels one output unit sees
// (size), how far apart neighbouring units' views are (stride, the "jump"), and where the first
// unit's view is centred (start, in input pixels, pixel centres at 0.5, 1.5, ...). The recurrence
// of Araujo et al. (Distill, 2019): r_out = r_in + (k - 1) j_in, j_out = j_in s,
// start_out = start_in + ((k - 1)/2 - p) j_in, with a dilated kernel's k = d (k - 1) + 1.

import type { LayerNode, ModelGraph, Shape } from './graph.ts';

export interface ReceptiveField {
  readonly size: readonly number[];
  readonly stride: readonly number[];
  readonly start: readonly number[];
}

/** Spatial axes of a channels-last shape: all but the last, for images, signals and volumes. */
function spatialRank(shape: Shape): number {
  return shape.length >= 2 ? shape.length - 1 : 0;
}

function window(rf: ReceptiveField, kernel: readonly number[], stride: readonly number[], padBefore: readonly number[], dilation?: readonly number[]): ReceptiveField {
  const k = kernel.map((f, i) => (dilation?.[i] ?? 1) * (f - 1) + 1);
  return {
    size: rf.size.map((r, i) => r + (k[i]! - 1) * rf.stride[i]!),
    stride: rf.stride.map((j, i) => j * stride[i]!),
    start: rf.start.map((s, i) => s + ((k[i]! - 1) / 2 - padBefore[i]!) * rf.stride[i]!),
  };
}

/** A layer's field from its inputs' (undefined: the layer's units see the whole input). */
function fieldOf(layer: LayerNode, inputs: readonly (ReceptiveField | undefined)[]): ReceptiveField | undefined {
  const a = layer.attrs;
  const first = inputs[0];
  if (!first || spatialRank(layer.shape) !== first.size.length) return undefined;
  switch (a.op) {
    case 'conv':
      return window(first, a.kernel, a.stride, a.padBefore, a.dilation);
    case 'maxpool':
    case 'avgpool':
      return window(first, a.kernel, a.stride, a.padBefore);
    case 'space_to_depth': {
      const b = first.size.map(() => a.block);
      return window(first, b, b, b.map(() => 0));
    }
    case 'zero_pad':
      return { ...first, start: first.start.map((s, i) => s - a.padBefore[i]! * first.stride[i]!) };
    case 'upsample':
      return { size: first.size, stride: first.stride.map((j, i) => j / a.scale[i]!), start: first.start.map((s, i) => s + (0.5 / a.scale[i]! - 0.5) * first.stride[i]!) };
    case 'add':
    case 'subtract':
    case 'concat': {
      // Merged branches: a unit sees the union of its inputs' views; the widest one bounds it.
      if (inputs.some((f) => !f)) return undefined;
      return (inputs as ReceptiveField[]).reduce((w, f) => (f.size[0]! > w.size[0]! ? f : w));
    }
    case 'global_avgpool':
    case 'global_maxpool':
    case 'dense':
    case 'flatten':
    case 'reshape':
      return undefined;
    default:
      return first;
  }
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
