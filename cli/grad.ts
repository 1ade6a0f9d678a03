// `cnnc grad FILE --weights W --input X [--labels Y] --out G [--backend cpu|wasm|webgpu]`: the loss
// and every gradient for one batch, in train mode (batch statistics, dropout with --seed),
// written to safetensors under the weights' names plus a scalar `loss`.
//
// X holds each model input by name, PyTorch layout with the batch first ([N, C, H, W]); a file
// with one tensor serves a model with one input whatever the tensor's name. Y holds the loss
// targets by name (`labels`: class indices, any integer or float dtype); a single tensor serves
// a model with one target. The batch size is X's leading axis.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelGraph } from '../compiler/graph.ts';
import { SEED_FEED } from '../compiler/lower/lower.ts';
import { buildGradProgram } from '../compiler/lower/programs.ts';
import { compileModel } from '../compiler/program.ts';
import type { Executor, TensorStore } from '../runtime/executor.ts';
import { cpuExecutor, ExecutionError } from '../runtime/reference/executor.ts';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors.ts';
import { shapeToString, toFloat32, type HostTensor } from '../runtime/tensor.ts';
import { readWeightsFor, toModelNames } from '../runtime/weights/load.ts';
import { parseCommand } from './command.ts';
import { GRAD } from './commands.ts';
import { EXIT_OK, EXIT_USAGE, parseOverrides, printDiagnostics, writeFileAtomic } from './io.ts';
import { UserError } from '../grammar/user-error.ts';

const USAGE = `usage: cnnc grad ${GRAD.args} (cnnc grad --help lists the options)`;

/** A user-facing failure: printed as `cnnc grad: message`, exit 2. */
class GradError extends UserError {
}

function readTensors(path: string, what: string): Map<string, HostTensor> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new GradError(`cannot read ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return readSafetensors(bytes, path);
  } catch (e) {
    throw new GradError(`${what} file ${path}: ${(e as Error).message}`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Picks `name` from a file, or its only tensor when `single` allows it. */
function pick(file: Map<string, HostTensor>, name: string, single: boolean, what: string, path: string): HostTensor {
  const t = file.get(name) ?? (single && file.size === 1 ? [...file.values()][0] : undefined);
  if (!t) throw new GradError(`${what} file ${path} has no tensor '${name}' (it has: ${[...file.keys()].join(', ') || 'none'})`);
  return t;
}

function batchOf(graph: ModelGraph, inputs: Map<string, HostTensor>, path: string): number {
  const feeds = graph.inputs.filter((i) => !i.trainable);
  const first = feeds[0] ? pick(inputs, feeds[0].name, feeds.length === 1, 'input', path) : undefined;
  const n = first?.shape[0];
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new GradError(`cannot tell the batch size: input ${feeds[0]?.name ?? '(none)'} has shape ${first ? shapeToString(first.shape) : 'none'}`);
  }
  return n;
}

async function executorFor(backend: string): Promise<{ executor: Executor; release: () => void }> {
  if (backend === 'cpu') return { executor: cpuExecutor, release: () => undefined };
  if (backend === 'wasm') {
    const { executor, close } = await (await import('../runtime/wasm/select.ts')).openWasmExecutor();
    return { executor, release: close };
  }
  const { acquireDevice } = await import('../runtime/webgpu/device.ts');
  const { WebGpuExecutor } = await import('../runtime/webgpu/executor.ts');
  try {
    const gpu = await acquireDevice();
    return { executor: new WebGpuExecutor(gpu), release: () => gpu.release() };
  } catch (e) {
    throw new GradError(`no WebGPU device: ${(e as Error).message}`);
  }
}

export async function runGrad(argv: string[]): Promise<number> {
  try {
    return await grad(argv);
  } catch (e) {
    if (e instanceof GradError || e instanceof ExecutionError || e instanceof RangeError) {
      process.stderr.write(`cnnc grad: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

async function grad(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommand(GRAD, argv);
  } catch (e) {
    throw new GradError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new GradError(`expected one FILE, got ${positionals.length}\n${USAGE}`);
  for (const flag of ['weights', 'input', 'out'] as const) {
    if (!values[flag]) throw new GradError(`missing --${flag}\n${USAGE}`);
  }
  const backend = values.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'wasm' && backend !== 'webgpu') throw new GradError(`--backend must be cpu, wasm or webgpu, got '${backend}'`);
  const seed = Number(values.seed ?? '0');
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 24) throw new GradError(`--seed must be an integer in [0, 2^24), got '${values.seed}'`);
  let overrides: Record<string, number>;
  try {
    overrides = parseOverrides(values.set);
  } catch (e) {
    throw new GradError((e as Error).message);
  }

  const file = resolve(positionals[0]!);
  const compiled = compileModel({ file: positionals[0]!, model: values.model, overrides });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !compiled.graph) {
    printDiagnostics(errors.length > 0 ? errors : compiled.diagnostics);
    throw new GradError(`${file} has errors`);
  }
  const graph = compiled.graph;
  const weightsPath = resolve(values.weights!);
  const inputPath = resolve(values.input!);
  const weights = /\.(h5|hdf5)$/i.test(weightsPath) ? (await readWeightsFor(graph, weightsPath)).tensors : toModelNames(graph, readTensors(weightsPath, 'weights'), weightsPath).tensors;
  const inputs = readTensors(inputPath, 'input');
  const labelsPath = values.labels ? resolve(values.labels) : undefined;
  const labels = labelsPath ? readTensors(labelsPath, 'labels') : new Map<string, HostTensor>();

  const batch = batchOf(graph, inputs, inputPath);
  const { program, lowered } = buildGradProgram(graph, batch, 'train');

  const store: TensorStore = new Map();
  for (const [name, shape] of lowered.persistent) {
    const t = weights.get(name) ?? (graph.inputs.some((i) => i.name === name) ? inputs.get(name) : undefined);
    if (!t) throw new GradError(`weights file ${weightsPath} has no tensor '${name}' ${shapeToString(shape)}`);
    if (!sameShape(t.shape, shape)) throw new GradError(`'${name}' has shape ${shapeToString(t.shape)}, the model needs ${shapeToString(shape)}`);
    store.set(name, toFloat32(t));
  }
  const feeds = new Map<string, Float32Array>();
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const targetCount = [...lowered.feeds.keys()].filter((n) => n !== SEED_FEED && !inputNames.has(n)).length;
  const inputCount = [...lowered.feeds.keys()].filter((n) => inputNames.has(n)).length;
  for (const [name, shape] of lowered.feeds) {
    if (name === SEED_FEED) {
      feeds.set(name, Float32Array.of(seed));
      continue;
    }
    const isInput = inputNames.has(name);
    if (!isInput && !labelsPath) throw new GradError(`the loss needs '${name}' ${shapeToString(shape)} per batch: pass --labels`);
    const t = isInput ? pick(inputs, name, inputCount === 1, 'input', inputPath) : pick(labels, name, targetCount === 1, 'labels', labelsPath!);
    if (!sameShape(t.shape, shape)) throw new GradError(`${isInput ? 'input' : 'target'} '${name}' has shape ${shapeToString(t.shape)}, the model needs ${shapeToString(shape)}`);
    feeds.set(name, toFloat32(t));
  }

  const { executor, release } = await executorFor(backend);
  let out: Map<string, Float32Array>;
  try {
    const prepared = await executor.prepare(program);
    out = await prepared.run(feeds, store);
    prepared.dispose();
  } catch (e) {
    // Device-side failures (kernel compilation, limits) are reported, not thrown as a stack.
    if (backend === 'webgpu' && e instanceof Error && !(e instanceof RangeError)) {
      throw new GradError(`the ${executor.name} backend failed: ${e.name}: ${e.message.split('\n')[0]}`);
    }
    throw e;
  } finally {
    release();
  }
  const result = new Map<string, HostTensor>();
  for (const [name, value] of out) {
    const shape = name === 'loss' ? [] : [...(lowered.persistent.get(name) ?? [])];
    result.set(name, { dtype: 'F32', shape, data: value });
  }
  writeFileAtomic(resolve(values.out!), writeSafetensors(result));
  process.stdout.write(`loss ${out.get('loss')![0]} (${out.size - 1} gradients, batch ${batch}, ${executor.name}) -> ${values.out}\n`);
  return EXIT_OK;
}
