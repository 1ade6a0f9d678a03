// Writes a model's initial (random) weights to a safetensors file, for command-line tests that
// need a weights file without training.

import { writeFileSync } from 'node:fs';
import type { ModelGraph } from '../../compiler/graph.ts';
import { initialWeights } from '../../runtime/init.ts';
import { writeSafetensors } from '../../runtime/safetensors.ts';

export function writeRandomWeights(graph: ModelGraph, seed: number, path: string): Map<string, Float32Array> {
  const weights = initialWeights(graph, seed);
  const shapes = new Map(graph.layers.flatMap((l) => l.params).map((p): [string, number[]] => [p.name, [...p.shape]]));
  writeFileSync(path, writeSafetensors(new Map([...weights].map(([name, data]) => [name, { dtype: 'F32' as const, shape: shapes.get(name)!, data }]))));
  return weights;
}
