// What a layer definition's ONNX form (`onnx`) writes through: the export builds one emitter per
// layer, the definition says which nodes compute it.

import type { LayerNode, ParamRole } from '../../graph.ts';
import type { AttrValue } from './proto.ts';

export interface OnnxEmitter {
  readonly layer: LayerNode;
  /** Input value names, in argument order. */
  readonly inputs: readonly string[];
  /** The value this layer must define: its own name. */
  readonly out: string;
  node(op: string, inputs: readonly string[], attrs?: Readonly<Record<string, AttrValue>>, out?: string): void;
  /** Name of the layer's parameter of `role` (its owner's, for shared layers). */
  param(role: ParamRole): string;
  /** An int64 or float constant, as an initializer; returns its name. */
  constant(suffix: string, values: readonly number[], type: 'int64' | 'float', dims?: readonly number[]): string;
}

/** The ONNX inputs of a layer with a weight: the input, the weight and the bias if it has one. */
export const weightedInputs = (e: OnnxEmitter, a: { readonly bias: boolean }): string[] => [e.inputs[0]!, e.param('weight'), ...(a.bias ? [e.param('bias')] : [])];
