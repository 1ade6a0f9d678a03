// Shapes, parameter counts and multiply-accumulates of a BenchModel, computed from the description
// alone. They let the bench check that the tfjs peer built the described network (same parameter
// count) and turn step times into conv GFLOP/s.

import type { BenchLayer, BenchModel, Padding } from './models.ts';

export interface LayerStats {
  readonly name: string;
  readonly kind: BenchLayer['kind'];
  /** [H, W, C] or [N]. */
  readonly shape: readonly number[];
  readonly params: number;
  readonly trainableParams: number;
  /** Forward multiply-accumulates per example. */
  readonly macs: number;
}

export interface ModelStats {
  readonly layers: readonly LayerStats[];
  readonly params: number;
  readonly trainableParams: number;
  /** Forward MACs per example, all layers. */
  readonly macs: number;
  /** Forward MACs per example in conv layers only. */
  readonly convMacs: number;
}

function outSize(size: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

function spatial(shape: readonly number[], layer: string): readonly [number, number, number] {
  const [h, w, c] = shape;
  if (shape.length !== 3 || h === undefined || w === undefined || c === undefined) {
    throw new Error(`layer ${layer} needs an H x W x C input, got [${shape.join(', ')}]`);
  }
  return [h, w, c];
}

function layerStats(layer: BenchLayer, inputs: readonly (readonly number[])[]): LayerStats {
  const x = inputs[0];
  if (x === undefined) throw new Error(`layer ${layer.name} has no input`);
  const base = { name: layer.name, kind: layer.kind };
  switch (layer.kind) {
    case 'conv': {
      const [h, w, c] = spatial(x, layer.name);
      const oh = outSize(h, layer.kernel, layer.stride, layer.padding);
      const ow = outSize(w, layer.kernel, layer.stride, layer.padding);
      if (oh < 1 || ow < 1) throw new Error(`conv ${layer.name}: output ${oh}x${ow} from ${h}x${w}`);
      const weights = layer.kernel * layer.kernel * c * layer.filters;
      const params = weights + (layer.bias ? layer.filters : 0);
      return { ...base, shape: [oh, ow, layer.filters], params, trainableParams: params, macs: oh * ow * weights };
    }
    case 'maxpool': {
      const [h, w, c] = spatial(x, layer.name);
      const shape = [outSize(h, layer.size, layer.stride, 'valid'), outSize(w, layer.size, layer.stride, 'valid'), c];
      return { ...base, shape, params: 0, trainableParams: 0, macs: 0 };
    }
    case 'batchnorm': {
      const c = x[x.length - 1] ?? 0;
      return { ...base, shape: x, params: 4 * c, trainableParams: 2 * c, macs: 0 };
    }
    case 'relu':
      return { ...base, shape: x, params: 0, trainableParams: 0, macs: 0 };
    case 'flatten':
      return { ...base, shape: [x.reduce((a, b) => a * b, 1)], params: 0, trainableParams: 0, macs: 0 };
    case 'global_avgpool':
      return { ...base, shape: [spatial(x, layer.name)[2]], params: 0, trainableParams: 0, macs: 0 };
    case 'dense': {
      if (x.length !== 1) throw new Error(`dense ${layer.name} needs a vector input, got [${x.join(', ')}]`);
      const n = x[0] ?? 0;
      const params = n * layer.units + (layer.bias ? layer.units : 0);
      return { ...base, shape: [layer.units], params, trainableParams: params, macs: n * layer.units };
    }
    case 'add': {
      const y = inputs[1];
      if (y === undefined || y.join('x') !== x.join('x')) {
        throw new Error(`add ${layer.name}: shapes [${x.join(', ')}] and [${(y ?? []).join(', ')}] differ`);
      }
      return { ...base, shape: x, params: 0, trainableParams: 0, macs: 0 };
    }
  }
}

/** Walks the layers in order, resolving `from` names; throws naming the layer on any mismatch. */
export function modelStats(model: BenchModel): ModelStats {
  const shapes = new Map<string, readonly number[]>([[model.inputName, model.inputShape]]);
  const layers: LayerStats[] = [];
  let previous = model.inputName;
  for (const layer of model.layers) {
    if (shapes.has(layer.name)) throw new Error(`layer name ${layer.name} is used twice in ${model.id}`);
    const inputs = (layer.from ?? [previous]).map((name) => {
      const shape = shapes.get(name);
      if (shape === undefined) throw new Error(`layer ${layer.name} reads unknown layer ${name}`);
      return shape;
    });
    const stats = layerStats(layer, inputs);
    layers.push(stats);
    shapes.set(layer.name, stats.shape);
    previous = layer.name;
  }
  const sum = (f: (l: LayerStats) => number, only?: BenchLayer['kind']): number =>
    layers.filter((l) => only === undefined || l.kind === only).reduce((a, l) => a + f(l), 0);
  return {
    layers,
    params: sum((l) => l.params),
    trainableParams: sum((l) => l.trainableParams),
    macs: sum((l) => l.macs),
    convMacs: sum((l) => l.macs, 'conv'),
  };
}

/** Output shape of the last layer. */
export function outputShape(model: BenchModel): readonly number[] {
  const last = modelStats(model).layers.at(-1);
  if (last === undefined) throw new Error(`model ${model.id} has no layers`);
  return last.shape;
}

/** One primitive op as cnnc's layer graph lists it (a fused `-> relu` is its own layer there). */
export interface PrimitiveOp {
  readonly op: string;
  readonly shape: readonly number[];
  /** All parameter elements, running statistics included. */
  readonly params: number;
}

/**
 * The model as the sequence of primitive ops cnnc's front end produces (conv, relu, batchnorm, ...),
 * for comparing the description with a compiled `.cnn` graph op by op.
 */
export function primitiveOps(model: BenchModel): PrimitiveOp[] {
  const stats = modelStats(model);
  const ops: PrimitiveOp[] = [];
  model.layers.forEach((layer, i) => {
    const s = stats.layers[i];
    if (s === undefined) return;
    ops.push({ op: layer.kind, shape: s.shape, params: s.params });
    if ((layer.kind === 'conv' || layer.kind === 'dense') && layer.activation !== 'linear') {
      ops.push({ op: layer.activation, shape: s.shape, params: 0 });
    }
  });
  return ops;
}
