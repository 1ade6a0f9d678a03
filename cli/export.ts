// `cnnc export FILE --to onnx|pytorch -o OUT`: the model for other engines. ONNX: the inference
// graph with its weights. PyTorch: a folder with model.py, train.py and the weights, to train on
// many machines with torchrun.

import { mkdirSync } from 'node:fs';
import type { ModelGraph } from '../compiler/graph.ts';
import { exportOnnx, ONNX_OPSET } from '../compiler/export/onnx/export.ts';
import { irShape } from '../compiler/lower/layout.ts';
import { initialWeights } from '../runtime/init.ts';
import { Rng } from '../runtime/data/random.ts';
import { fitWeights } from '../runtime/fit-weights.ts';
import { elementCount } from '../runtime/tensor.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { EXPORT } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';
import { writePytorchExport } from './export-pytorch.ts';

/** Every parameter and running statistic (and a trainable input the file has): from --weights (any names a map knows), else initialised from the seed. */
export async function exportWeights(graph: ModelGraph, path: string | undefined, seed: number): Promise<Map<string, Float32Array>> {
  if (path === undefined) return withTrainedInputs(graph, initialWeights(graph, seed), seed);
  const loaded = await readWeightsFor(graph, path);
  // A trainable input travels when the file has it (a checkpoint of train.py), as [1, C, H, W].
  const trained = graph.inputs.filter((i) => i.trainable && loaded.tensors.has(i.name)).map((i) => [i.name, irShape(i.shape, 1)] as const);
  const wanted = [...graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)), ...trained];
  const out = fitWeights(wanted, loaded.tensors, path, `model ${graph.name}`);
  return withTrainedInputs(graph, out, seed);
}

/**
 * A trainable input the weights lack starts as seeded uniform noise in [0, 1), [1, C, H, W]: not
 * zeros, which after ReLUs with cnnc's zero biases would give it no gradient.
 */
function withTrainedInputs(graph: ModelGraph, weights: Map<string, Float32Array>, seed: number): Map<string, Float32Array> {
  for (const input of graph.inputs.filter((i) => i.trainable && !weights.has(i.name))) {
    const rng = Rng.seeded(seed);
    weights.set(input.name, Float32Array.from({ length: elementCount(irShape(input.shape, 1)) }, () => rng.uniform(0, 1)));
  }
  return weights;
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
