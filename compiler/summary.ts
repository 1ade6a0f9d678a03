// `cnnc summary`: per layer the output shape, parameters, multiply-accumulates and activation memory,
// and totals, as Keras' model.summary() prints them and more.
//
// Activation memory counts every tensor a forward pass must hold for one example, in float32: the
// inputs and each layer's output, except layers that can run in place on their input (activations,
// dropout) or are views of it (flatten, reshape). For VGG-16 this is the sum of the input and of
// every conv, pool and dense output.

import type { LayerNode, ModelGraph } from './graph.ts';
import { definitionOf } from './layers/index.ts';
import { formatShape, groupDigits, humanBytes, humanCount, product } from './checker/values.ts';
import { formatReceptiveField, receptiveFields } from './receptive-field.ts';

const BYTES_PER_VALUE = 4;

export interface LayerSummary {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputShape: readonly number[];
  readonly params: number;
  readonly trainableParams: number;
  readonly macs: number;
  readonly activationBytes: number;
  /**
   * Per spatial axis, the input pixels one output unit sees (size) and the distance between
   * neighbouring units' views (stride); null where a unit sees the whole input (dense, global pool).
   */
  readonly receptiveField: { readonly size: readonly number[]; readonly stride: readonly number[] } | null;
  readonly doc?: string;
}

export interface ModelSummary {
  readonly model: string;
  readonly doc?: string;
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly trainable: boolean }[];
  readonly layers: readonly LayerSummary[];
  readonly totals: {
    readonly params: number;
    readonly trainable: number;
    readonly nonTrainable: number;
    readonly macs: number;
    readonly activationBytes: number;
    readonly paramBytes: number;
  };
}

/** `conv2d`, `maxpool3d`, `dense`: the op with its rank where it has one. */
export function displayOp(layer: LayerNode): string {
  return definitionOf(layer.attrs).display(layer.attrs);
}

export function layerActivationBytes(layer: LayerNode): number {
  return definitionOf(layer.attrs).inPlace ? 0 : product(layer.shape) * BYTES_PER_VALUE;
}

export function summarize(graph: ModelGraph): ModelSummary {
  const fields = receptiveFields(graph);
  const layers = graph.layers.map((l): LayerSummary => {
    const params = l.params.reduce((s, p) => s + product(p.shape), 0);
    const trainableParams = l.params.filter((p) => p.trainable).reduce((s, p) => s + product(p.shape), 0);
    return {
      name: l.name,
      op: displayOp(l),
      inputs: l.inputs,
      outputShape: l.shape,
      params,
      trainableParams,
      macs: l.macs,
      activationBytes: layerActivationBytes(l),
      receptiveField: fieldJson(fields.get(l.name)),
      ...(l.doc ? { doc: l.doc } : {}),
    };
  });
  const params = layers.reduce((s, l) => s + l.params, 0);
  const trainable = layers.reduce((s, l) => s + l.trainableParams, 0);
  const inputBytes = graph.inputs.reduce((s, i) => s + product(i.shape) * BYTES_PER_VALUE, 0);
  return {
    model: graph.name,
    ...(graph.doc ? { doc: graph.doc } : {}),
    inputs: graph.inputs.map((i) => ({ name: i.name, shape: i.shape, trainable: i.trainable })),
    layers,
    totals: {
      params,
      trainable,
      nonTrainable: params - trainable,
      macs: layers.reduce((s, l) => s + l.macs, 0),
      activationBytes: inputBytes + layers.reduce((s, l) => s + l.activationBytes, 0),
      paramBytes: params * BYTES_PER_VALUE,
    },
  };
}

function fieldJson(rf: { size: readonly number[]; stride: readonly number[] } | undefined): LayerSummary['receptiveField'] {
  return rf ? { size: rf.size, stride: rf.stride } : null;
}

/** The Keras-like table. */
export function formatSummary(s: ModelSummary, file: string): string {
  const rows: string[][] = [['Layer (op)', 'Output shape', 'Params', 'MACs', 'Memory', 'RF/stride', 'Inputs']];
  for (const i of s.inputs) {
    const rf = i.shape.length >= 2 ? '1/1' : '-';
    rows.push([`${i.name} (input${i.trainable ? ', trainable' : ''})`, formatShape(i.shape), '0', '0', humanBytes(product(i.shape) * BYTES_PER_VALUE), rf, '']);
  }
  for (const l of s.layers) {
    const params = l.params === l.trainableParams ? groupDigits(l.params) : `${groupDigits(l.params)}*`;
    rows.push([`${l.name} (${l.op})`, formatShape(l.outputShape), params, l.macs ? humanCount(l.macs) : '0', l.activationBytes ? humanBytes(l.activationBytes) : '-', formatReceptiveField(l.receptiveField ?? undefined), l.inputs.join(', ')]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const numeric = new Set([2, 3, 4, 5]);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const t = s.totals;
  const out = [`Model: ${s.model} (${file})`];
  if (s.doc) out.push(...s.doc.split('\n').map((d) => `  ${d}`));
  out.push(rule, line(rows[0]), rule, ...rows.slice(1).map(line), rule);
  out.push(`Total params: ${groupDigits(t.params)} (${humanBytes(t.paramBytes)})`);
  out.push(`Trainable params: ${groupDigits(t.trainable)}`);
  out.push(`Non-trainable params: ${groupDigits(t.nonTrainable)}${t.nonTrainable ? '  (* marks layers with some)' : ''}`);
  out.push(`Multiply-accumulates: ${groupDigits(t.macs)} (${humanCount(t.macs)})`);
  out.push(`Activation memory per example (forward): ${humanBytes(t.activationBytes)} (${groupDigits(t.activationBytes / BYTES_PER_VALUE)} values)`);
  return out.join('\n');
}
