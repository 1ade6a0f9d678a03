// Initial values of a model's parameters and state, seeded and reproducible: He-uniform weights
// for conv and dense (fan-in scaled, suited to ReLU networks), zero biases, batchnorm scale 1 and
// shift 0, running mean 0 and variance 1.

import type { ModelGraph, ParamSpec } from '../compiler/graph.ts';
import { Rng } from './data/random.ts';

function fill(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}

/** He-uniform: U(-sqrt(6 / fanIn), sqrt(6 / fanIn)). */
export function heUniform(count: number, fanIn: number, rng: Rng): Float32Array {
  const bound = Math.sqrt(6 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

function initParam(spec: ParamSpec, rng: Rng): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  switch (spec.role) {
    case 'weight':
      // [out, in, ...kernel]: fan-in is everything but the first axis.
      return heUniform(count, count / spec.shape[0], rng);
    case 'gamma':
    case 'running_var':
      return fill(count, 1);
    case 'bias':
    case 'beta':
    case 'running_mean':
      return fill(count, 0);
  }
}

/** Every parameter and running statistic of the graph, by name. */
export function initialWeights(graph: ModelGraph, seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const layer of graph.layers) {
    for (const spec of layer.params) out.set(spec.name, initParam(spec, Rng.seeded(seed, hashName(spec.name))));
  }
  return out;
}

/** A stable 32-bit hash of a name, so each tensor's values do not depend on the others' order. */
export function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
