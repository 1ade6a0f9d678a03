// `cnnc export FILE --to onnx|pytorch -o OUT`: the model for other engines. ONNX: the inference
// graph with its weights. PyTorch: a folder with model.py, train.py and the weights, to train on
// many machines with torchrun.

import { mkdirSync } from 'node:fs';
import type { ModelGraph } from '../compiler/graph.ts';
import { exportOnnx, ONNX_OPSET } from '../compiler/export/onnx/export.ts';
import { initialWeights } from '../runtime/init.ts';
import { shapeToString, toFloat32 } from '../runtime/tensor.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { EXPORT } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';
import { writePytorchExport } from './export-pytorch.ts';

/** Every parameter and running statistic: from --weights (any names a map knows), else initialised from the seed. */
export async function exportWeights(graph: ModelGraph, path: string | undefined, seed: number): Promise<Map<string, Float32Array>> {
  if (path === undefined) return initialWeights(graph, seed);
  const loaded = await readWeightsFor(graph, path);
  const out = new Map<string, Float32Array>();
  const problems: string[] = [];
  for (const layer of graph.layers) {
    for (const p of layer.params) {
      const t = loaded.tensors.get(p.name);
      if (!t) problems.push(`missing ${p.name}`);
      else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) problems.push(`${p.name} is ${shapeToString(t.shape)}, the model expects ${shapeToString(p.shape)}`);
      else out.set(p.name, toFloat32(t));
    }
  }
  if (problems.length > 0) throw new UsageError(`${path} does not fit model ${graph.name}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
  return out;
}

export async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(EXPORT, argv);
  expectOneFile(EXPORT, positionals);
  const to = values.to;
  if (to !== 'onnx' && to !== 'pytorch') throw new UsageError(`--to expects onnx or pytorch, got ${to === undefined ? 'nothing' : `'${to}'`}`);
  if (!values.output) throw new UsageError(`missing -o ${to === 'onnx' ? 'MODEL.onnx' : 'DIR'}`);
  const seed = Number(values.seed ?? '0');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed expects a non-negative integer, got '${values.seed}'`);
  const graph = compileForRun(positionals[0]!, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const weights = await exportWeights(graph, values.weights, seed);
  if (to === 'onnx') {
    if (graph.outputs.length === 0) throw new UsageError(`model ${graph.name} has no outputs to export`);
    writeFileAtomic(values.output, exportOnnx(graph, weights, 'cnnc'));
    process.stdout.write(`${graph.name} -> ${values.output} (ONNX opset ${ONNX_OPSET}, inference graph)\n`);
  } else {
    mkdirSync(values.output, { recursive: true });
    const files = writePytorchExport(graph, positionals[0]!, weights, values.output);
    process.stdout.write(`${graph.name} -> ${values.output}: ${files.join(', ')}\n`);
  }
  return EXIT_OK;
}
