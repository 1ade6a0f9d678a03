// A model's inference graph as ONNX (opset 17, standard ops only): batchnorm in inference form
// (running statistics), dropout as Identity, one value per layer named as the layer, parameters
// as initializers under their weight-file names. Tensors are NCHW, as in cnnc's IR and PyTorch.

import type { LayerNode, LayerOp, ModelGraph, ParamRole, Shape } from '../../graph.ts';
import { irShape } from '../../lower/layout.ts';
import { encodeModel, ONNX_OPSET, type AttrValue, type OnnxNode, type OnnxTensor, type OnnxValue } from './proto.ts';
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

interface LayerEmitter {
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

/** Spatial sizes of a channels-last shape of `rank` spatial axes. */
function spatial(shape: Shape, rank: number): number[] {
  return shape.slice(0, rank);
}

function pool(e: LayerEmitter): void {
  const a = e.layer.attrs;
  if (a.op !== 'maxpool' && a.op !== 'avgpool') throw new OnnxExportError('pool');
  const inSizes = spatial(e.layer.inputShapes[0]!, a.rank);
  const outSizes = spatial(e.layer.shape, a.rank);
  // Ceil rounding becomes explicit padding after each axis: the extra cells are skipped by max
  // and not counted by the average (count_include_pad 0), which is what rounding up means here.
  const padAfter = outSizes.map((o, i) => Math.max(a.padAfter[i]!, (o - 1) * a.stride[i]! + a.kernel[i]! - inSizes[i]! - a.padBefore[i]!));
  const attrs = { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...padAfter] };
  if (a.op === 'maxpool') e.node('MaxPool', e.inputs, attrs);
  else e.node('AveragePool', e.inputs, { ...attrs, count_include_pad: 0 });
}

function globalPool(reduce: 'ReduceMean' | 'ReduceMax'): (e: LayerEmitter) => void {
  return (e) => {
    const rank = e.layer.inputShapes[0]!.length + 1;
    e.node(reduce, e.inputs, { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: 0 });
  };
}

function unary(op: string): (e: LayerEmitter) => void {
  return (e) => e.node(op, e.inputs);
}

/** One row per layer op: the ONNX nodes that compute it. */
const LAYERS: Readonly<Record<LayerOp, (e: LayerEmitter) => void>> = {
  conv(e) {
    const a = e.layer.attrs;
    if (a.op !== 'conv') throw new OnnxExportError('conv');
    const inputs = [e.inputs[0]!, e.param('weight'), ...(a.bias ? [e.param('bias')] : [])];
    e.node('Conv', inputs, { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...a.padAfter], dilations: a.dilation });
  },
  conv_transpose(e) {
    const a = e.layer.attrs;
    if (a.op !== 'conv_transpose') throw new OnnxExportError('conv_transpose');
    const inputs = [e.inputs[0]!, e.param('weight'), ...(a.bias ? [e.param('bias')] : [])];
    e.node('ConvTranspose', inputs, { kernel_shape: a.kernel, strides: a.stride, pads: [...a.padBefore, ...a.padAfter], dilations: a.dilation, output_padding: a.outputPadding });
  },
  maxpool: pool,
  avgpool: pool,
  global_avgpool: globalPool('ReduceMean'),
  global_maxpool: globalPool('ReduceMax'),
  dense(e) {
    const a = e.layer.attrs;
    if (a.op !== 'dense') throw new OnnxExportError('dense');
    e.node('Gemm', [e.inputs[0]!, e.param('weight'), ...(a.bias ? [e.param('bias')] : [])], { transB: 1 });
  },
  batchnorm(e) {
    const a = e.layer.attrs;
    if (a.op !== 'batchnorm') throw new OnnxExportError('batchnorm');
    const inputs = [e.inputs[0]!, e.param('gamma'), e.param('beta'), e.param('running_mean'), e.param('running_var')];
    e.node('BatchNormalization', inputs, { epsilon: { float: a.eps } });
  },
  dropout: unary('Identity'),
  linear: unary('Identity'),
  leaky_relu(e) {
    const a = e.layer.attrs;
    if (a.op !== 'leaky_relu') throw new OnnxExportError('leaky_relu');
    e.node('LeakyRelu', e.inputs, { alpha: { float: a.alpha } });
  },
  relu: unary('Relu'),
  tanh: unary('Tanh'),
  sigmoid: unary('Sigmoid'),
  abs: unary('Abs'),
  softmax: (e) => e.node('Softmax', e.inputs, { axis: 1 }),
  flatten: (e) => e.node('Flatten', e.inputs, { axis: 1 }),
  add(e) {
    let sum = e.inputs[0]!;
    e.inputs.slice(1).forEach((x, i) => {
      const out = i === e.inputs.length - 2 ? e.out : `${e.out}/sum${i + 1}`;
      e.node('Add', [sum, x], {}, out);
      sum = out;
    });
  },
  subtract: (e) => e.node('Sub', e.inputs),
  concat: (e) => e.node('Concat', e.inputs, { axis: 1 }),
  l2_normalize(e) {
    // x / max(||x||, 1e-12) over the channel axis, as the IR's l2_normalize.
    e.node('ReduceL2', e.inputs, { axes: [1], keepdims: 1 }, `${e.out}/norm`);
    e.node('Max', [`${e.out}/norm`, e.constant('eps', [1e-12], 'float', [])], {}, `${e.out}/clamped`);
    e.node('Div', [e.inputs[0]!, `${e.out}/clamped`]);
  },
  reshape(e) {
    // 0 copies the batch dimension.
    e.node('Reshape', [e.inputs[0]!, e.constant('shape', [0, ...irShape(e.layer.shape, 1).slice(1)], 'int64')]);
  },
  zero_pad(e) {
    const a = e.layer.attrs;
    if (a.op !== 'zero_pad') throw new OnnxExportError('zero_pad');
    e.node('Pad', [e.inputs[0]!, e.constant('pads', [0, 0, ...a.padBefore, 0, 0, ...a.padAfter], 'int64')]);
  },
  space_to_depth(e) {
    const a = e.layer.attrs;
    if (a.op !== 'space_to_depth') throw new OnnxExportError('space_to_depth');
    // ONNX's SpaceToDepth orders the new channels (row offset, column offset, channel), as cnnc's.
    e.node('SpaceToDepth', e.inputs, { blocksize: a.block });
  },
  upsample(e) {
    const a = e.layer.attrs;
    if (a.op !== 'upsample') throw new OnnxExportError('upsample');
    const scales = e.constant('scales', [1, 1, ...a.scale], 'float');
    e.node('Resize', [e.inputs[0]!, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  },
};

/** Layers the outputs depend on, in the graph's (topological) order. */
function neededLayers(graph: ModelGraph): LayerNode[] {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const needed = new Set<string>();
  const stack = [...graph.outputs];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    stack.push(...(byName.get(name)?.inputs ?? []));
  }
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
    const emitter: LayerEmitter = {
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
    LAYERS[layer.attrs.op](emitter);
  }
  const used = new Set(layers.flatMap((l) => l.inputs));
  const inputs = graph.inputs.filter((i) => used.has(i.name)).map((i) => valueOf(i.name, i.shape));
  const outputs = graph.outputs.map((name) => valueOf(name, byName.get(name)?.shape ?? graph.inputs.find((i) => i.name === name)!.shape));
  return encodeModel({ name: graph.name, doc: graph.doc ?? '', nodes, initializers, inputs, outputs }, producerVersion);
}
