// A model's inference graph as ONNX (opset 17, standard ops only): batchnorm in inference form
// (running statistics), dropout as Identity, one value per layer named as the layer, parameters
// as initializers under their weight-file names. Tensors are NCHW, as in cnnc's IR and PyTorch.

import { ancestorsOf, type LayerNode, type ModelGraph, type Shape } from '../../graph.ts';
import { definitionOf } from '../../layers/index.ts';
import { irShape } from '../../lower/layout.ts';
import type { OnnxEmitter } from './layer-form.ts';
import { encodeModel, ONNX_OPSET, type OnnxNode, type OnnxTensor, type OnnxValue } from './proto.ts';
import { UserError } from '../../../grammar/user-error.ts';

export class OnnxExportError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

export { ONNX_OPSET };

/** The symbolic batch dimension of every input and output. */
const BATCH = 'batch';

/** Layers the outputs depend on, in the graph's (topological) order. */
function neededLayers(graph: ModelGraph): LayerNode[] {
  const needed = ancestorsOf(graph, graph.outputs);
  return graph.layers.filter((l) => needed.has(l.name));
}

function valueOf(name: string, shape: Shape): OnnxValue {
  return { name, dims: [BATCH, ...irShape(shape, 1).slice(1)] };
}

/**
 * The ONNX model (serialized ModelProto) of `graph`'s inference pass with `weights` (every
 * parameter and running statistic by name, PyTorch layout). Trainable inputs (style transfer's
 * image) are ordinary graph inputs here.
 */
export function exportOnnx(graph: ModelGraph, weights: ReadonlyMap<string, Float32Array>, producerVersion = '0'): Uint8Array {
  const layers = neededLayers(graph);
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const initialized = new Set<string>();
  const addParam = (name: string, dims: readonly number[]): string => {
    if (initialized.has(name)) return name;
    const data = weights.get(name);
    if (!data) throw new OnnxExportError(`no value for weight '${name}' [${dims.join(', ')}]`);
    initializers.push({ name, dims, data });
    initialized.add(name);
    return name;
  };
  for (const layer of layers) {
    const owner = byName.get(layer.paramOwner) ?? layer;
    const emitter: OnnxEmitter = {
      layer,
      inputs: layer.inputs,
      out: layer.name,
      node(op, inputs, attrs = {}, out = layer.name) {
        nodes.push({ op, inputs, outputs: [out], name: out, attrs });
      },
      param(role) {
        const spec = owner.params.find((p) => p.role === role);
        if (!spec) throw new OnnxExportError(`layer ${layer.name} has no ${role}`);
        return addParam(spec.name, spec.shape);
      },
      constant(suffix, values, type, dims = [values.length]) {
        const name = `${layer.name}/${suffix}`;
        const data = type === 'float' ? Float32Array.from(values) : BigInt64Array.from(values.map((v) => BigInt(v)));
        initializers.push({ name, dims, data });
        return name;
      },
    };
    // Each layer's nodes are its definition's ONNX form.
    definitionOf(layer.attrs).onnx(emitter, layer.attrs);
  }
  const used = new Set(layers.flatMap((l) => l.inputs));
  const inputs = graph.inputs.filter((i) => used.has(i.name)).map((i) => valueOf(i.name, i.shape));
  const outputs = graph.outputs.map((name) => valueOf(name, byName.get(name)?.shape ?? graph.inputs.find((i) => i.name === name)!.shape));
  return encodeModel({ name: graph.name, doc: graph.doc ?? '', nodes, initializers, inputs, outputs }, producerVersion);
}
