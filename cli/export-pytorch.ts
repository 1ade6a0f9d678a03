// The folder `cnnc export --to pytorch` writes: model.py (generated), train.py (the torchrun/DDP
// script, the same for every model) and weights.safetensors (the weights training starts from).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelGraph } from '../compiler/graph.ts';
import { modelPy } from '../compiler/export/pytorch/model-py.ts';
import { writeSafetensorsFile } from '../runtime/checkpoint.ts';
import { writeFileAtomic } from './io.ts';
import { irShape } from '../compiler/lower/layout.ts';

const TRAIN_PY = new URL('../compiler/export/pytorch/train.py', import.meta.url);

/** Writes the three files into `dir`; returns their names. */
export function writePytorchExport(graph: ModelGraph, source: string, weights: ReadonlyMap<string, Float32Array>, dir: string): string[] {
  const model = modelPy(graph, source);
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const layer of graph.layers) for (const p of layer.params) tensors.set(p.name, { dtype: 'F32', shape: [...p.shape], data: weights.get(p.name)! });
  // A trainable input is a parameter of model.py, [1, C, H, W].
  for (const input of graph.inputs.filter((i) => i.trainable)) tensors.set(input.name, { dtype: 'F32', shape: irShape(input.shape, 1), data: weights.get(input.name)! });
  writeFileAtomic(join(dir, 'model.py'), model);
  writeFileAtomic(join(dir, 'train.py'), readFileSync(TRAIN_PY));
  writeSafetensorsFile(join(dir, 'weights.safetensors'), tensors, { format: 'pt', model: graph.name });
  return ['model.py', 'train.py', 'weights.safetensors'];
}
