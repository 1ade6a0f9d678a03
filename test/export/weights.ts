// Weights for export tests: the model's initial weights with batchnorm's scale, shift and running
// statistics drawn at random too, so an exported batchnorm is not the identity it starts as.

import type { ModelGraph } from '../../compiler/graph.ts';
import { initialWeights } from '../../runtime/init.ts';
import { rng } from '../ir/support.ts';

export function randomizedWeights(graph: ModelGraph, seed: number): Map<string, Float32Array> {
  const weights = initialWeights(graph, seed);
  const rand = rng(seed);
  for (const layer of graph.layers) {
    for (const p of layer.params) {
      const w = weights.get(p.name)!;
      if (p.role === 'gamma' || p.role === 'running_var') for (let i = 0; i < w.length; i++) w[i] = 0.5 + rand();
      else if (p.role === 'beta' || p.role === 'running_mean' || p.role === 'bias') for (let i = 0; i < w.length; i++) w[i] = (rand() - 0.5) * 0.2;
    }
  }
  return weights;
}
