// Initial values of a model's parameters and state, seeded and reproducible, drawn as
// compiler/param-init.ts describes them. `cnnc train` and bundles start from the same values for a
// seed: both draw each tensor with `initialValue`, one seeded stream per tensor name.

import type { ModelGraph } from '../compiler/graph.ts';
import { initFor, type WeightInit } from '../compiler/param-init.ts';
import { Rng } from './data/random.ts';
import { elementCount } from './tensor.ts';

/** He-uniform: U(-sqrt(6 / fanIn), sqrt(6 / fanIn)). */
function heUniform(count: number, fanIn: number, rng: Rng): Float32Array {
  const bound = Math.sqrt(6 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** The values of tensor `name` for `seed`: one seeded stream per name, so no tensor depends on another's order. */
export function initialValue(name: string, shape: readonly number[], init: WeightInit, seed: number): Float32Array {
  const count = elementCount(shape);
  if (init.kind === 'const') return new Float32Array(count).fill(init.value);
  return heUniform(count, init.fanIn, Rng.seeded(seed, hashName(name)));
}

/** Every parameter and running statistic of the graph, by name. */
export function initialWeights(graph: ModelGraph, seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const layer of graph.layers) {
    for (const spec of layer.params) out.set(spec.name, initialValue(spec.name, spec.shape, initFor(spec), seed));
  }
  return out;
}

/** A stable 32-bit hash of a name, so each tensor's values do not depend on the others' order. */
function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
