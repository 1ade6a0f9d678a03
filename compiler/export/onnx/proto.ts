// ONNX's messages (onnx/onnx.proto, field numbers from there), built on the protobuf writer.

import { Message } from '../protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;

/** An attribute value: an int, a float, a list of ints, or a string. */
export type AttrValue = number | readonly number[] | string | { readonly float: number };

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface OnnxValue {
  readonly name: string;
  /** A string is a symbolic dimension (the batch). */
  readonly dims: readonly (number | string)[];
}

function attribute(name: string, value: AttrValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === 'string') return m.int(20, 3).string(4, value);
  if (typeof value === 'number') return m.int(20, 2).int(3, value);
  if ('float' in value) return m.int(20, 1).float(2, value.float);
  m.int(20, 7);
  for (const v of value as readonly number[]) m.int(8, v);
  return m;
}

function node(n: OnnxNode): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.message(5, attribute(k, v));
  return m;
}

function tensor(t: OnnxTensor): Message {
  const m = new Message();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.data instanceof Float32Array ? FLOAT : INT64).string(8, t.name);
  // raw_data is little-endian; typed arrays are in host order, little-endian on every platform we run.
  return m.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(v: OnnxValue): Message {
  const shape = new Message();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

export interface OnnxGraph {
  readonly name: string;
  readonly doc: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

/** The serialized ModelProto. */
export function encodeModel(g: OnnxGraph, producerVersion: string): Uint8Array {
  const graph = new Message();
  for (const n of g.nodes) graph.message(1, node(n));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  graph.string(10, g.doc);
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  return new Message()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'cnnc')
    .string(3, producerVersion)
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, ONNX_OPSET))
    .finish();
}
