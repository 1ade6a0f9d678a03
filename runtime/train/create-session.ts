// Builds a TrainingSession from a typed model graph: compiles the training step (forward, loss,
// backward, optimizer update) and the evaluation program to IR, prepares both on a backend (WebGPU
// when an adapter exists, else the CPU reference executor), and initialises the weights.

import type { ModelGraph } from '../../compiler/graph.ts';
import { buildEvalProgram } from '../../compiler/lower/programs.ts';
import { SEED_FEED } from '../../compiler/lower/lower.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import { isResident, type Executor, type PreparedProgram, type TensorStore } from '../executor.ts';
import { initialWeights } from '../init.ts';
import type { OptimizerConfig } from '../optim/optimizers.ts';
import { buildTrainStep } from '../optim/train-step.ts';
import { cpuExecutor } from '../reference/executor.ts';
import { argmax } from './argmax.ts';
import type { SessionState, StepResult, TrainingSession } from './session.ts';

export type Backend = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export interface SessionOptions {
  readonly batch: number;
  /** Absent: an inference-only session (eval, predict) that compiles no training step. */
  readonly optimizer?: OptimizerConfig;
  readonly backend: Backend;
  /** Seeds the initial weights and dropout. */
  readonly seed: number;
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
}

/** The tensor a classification loss reads, for accuracy; undefined for other losses. */
function classifierOutput(graph: ModelGraph): string | undefined {
  const term = graph.loss.find((t) => t.fn === 'cross_entropy');
  return term?.args[0];
}

/** What the training CLI can feed: images for one input and class labels for a cross_entropy loss. */
export function checkTrainable(graph: ModelGraph): void {
  if (graph.loss.length === 0) throw new SessionError(`model ${graph.name} declares no loss; add e.g. \`loss cross_entropy\``);
  const feedInputs = graph.inputs.filter((i) => !i.trainable);
  if (feedInputs.length !== 1) throw new SessionError(`cnnc train feeds one image input; model ${graph.name} has ${feedInputs.length} (${feedInputs.map((i) => i.name).join(', ')})`);
  const needs = graph.loss.filter((t) => t.target && t.target.name !== 'labels');
  if (needs.length > 0) throw new SessionError(`cnnc train feeds class labels; model ${graph.name}'s loss ${needs[0].fn} needs '${needs[0].target!.name}' targets`);
  if (!classifierOutput(graph)) throw new SessionError(`cnnc train needs a cross_entropy loss to train a classifier; model ${graph.name} has ${graph.loss.map((t) => t.fn).join(', ')}`);
}

/**
 * The executor for a backend choice. `auto` takes a WebGPU adapter when one exists, except a
 * software one (SwiftShader, llvmpipe): those emulate a GPU on the CPU, train about as fast as the
 * CPU reference executor (a LeNet-5 step of 64: 228 vs 207 ms; ResNet-8: 4.4 vs 5.5 s) and first
 * spend seconds compiling kernels, so `auto` says so and uses the wasm back end (fused SIMD kernels
 * on every core); `webgpu` takes any adapter, `cpu` is the reference executor.
 */
export async function pickExecutor(backend: Backend): Promise<{ executor: Executor; device: string; note?: string; close: () => void }> {
  if (backend === 'cpu') return { executor: cpuExecutor, device: 'cpu (reference executor)', close: () => undefined };
  const { openWasmExecutor } = await import('../wasm/select.ts');
  if (backend === 'wasm') return openWasmExecutor();
  const onCpu = (why: string, release: () => void) => {
    const wasm = openWasmExecutor();
    return { ...wasm, note: [why, wasm.note].filter((n) => n !== undefined).join('; '), close: () => (wasm.close(), release()) };
  };
  const { acquireDevice, NoWebGpuError } = await import('../webgpu/device.ts');
  const { WebGpuExecutor } = await import('../webgpu/executor.ts');
  try {
    const gpu = await acquireDevice();
    if (backend === 'auto' && gpu.caps.preferRegisterTiles) {
      // Released with the session: Dawn aborts when its instance goes while the process runs on.
      return onCpu(`the only WebGPU adapter, ${gpu.name}, is a software one, slower than the wasm back end; --backend webgpu uses it`, () => gpu.release());
    }
    return { executor: new WebGpuExecutor(gpu), device: `webgpu: ${gpu.name}`, close: () => gpu.release() };
  } catch (e) {
    if (backend === 'auto' && e instanceof NoWebGpuError) {
      return onCpu('no WebGPU adapter found: using the wasm back end', () => undefined);
    }
    throw e;
  }
}

export async function createSession(graph: ModelGraph, options: SessionOptions): Promise<TrainingSession> {
  checkTrainable(graph);
  const output = classifierOutput(graph)!;
  const input = graph.inputs.find((i) => !i.trainable)!;
  const classes = graph.layers.find((l) => l.name === output)?.shape[0] ?? 0;
  const step = options.optimizer ? buildTrainStep(graph, options.batch, options.optimizer) : undefined;
  const evalProgram = buildEvalProgram(graph, options.batch);
  const { executor, device, note, close } = await pickExecutor(options.backend);
  const train: PreparedProgram | undefined = step ? await executor.prepare(step.program) : undefined;
  const evaluate = await executor.prepare(evalProgram);

  const persistent = step?.persistent ?? new Map(leavesOf(evalProgram).filter((l) => l.role !== 'feed').map((l) => [l.name, l.shape] as const));
  const initial = initialWeights(graph, options.seed);
  const store: TensorStore = new Map();
  for (const [name, shape] of persistent) {
    const size = shape.reduce((a, b) => a * b, 1);
    const value = initial.get(name);
    store.set(name, value && value.length === size ? value : new Float32Array(size));
  }
  // On WebGPU the weights stay on the device between steps; the host copy (`store`) is refreshed
  // only when someone reads it (a checkpoint, an evaluation on the other program).
  let weightsVersion = 0;
  let hostVersion = 0;
  let evalVersion = -1;
  if (train && isResident(train)) train.load(store);
  const refreshHost = async () => {
    if (hostVersion === weightsVersion) return;
    if (train && isResident(train)) await train.save(store);
    hostVersion = weightsVersion;
  };
  const optimizerNames = new Set(step?.optimizerState.keys() ?? []);
  const shapes = new Map<string, readonly number[]>([...persistent]);
  let stepCount = 0;

  const feedsFor = (images: Float32Array, labels: Int32Array) => {
    const feeds = new Map<string, Float32Array>([
      [input.name, images],
      ['labels', Float32Array.from(labels)],
    ]);
    if (step?.feeds.has(SEED_FEED)) feeds.set(SEED_FEED, new Float32Array([(options.seed * 1_000_003 + stepCount) % 16_777_216]));
    return feeds;
  };
  const countCorrect = (probabilities: Float32Array, labels: Int32Array, count: number): number => {
    let correct = 0;
    for (let i = 0; i < count; i++) {
      if (argmax(probabilities.subarray(i * classes, (i + 1) * classes)) === labels[i]) correct++;
    }
    return correct;
  };

  return {
    batchSize: options.batch,
    device,
    ...(note ? { deviceNote: note } : {}),
    shapes,
    async trainStep(images, labels): Promise<StepResult> {
      if (!train) throw new SessionError('this session was opened for inference only');
      const feeds = feedsFor(images, labels);
      stepCount++;
      let out: Map<string, Float32Array>;
      if (isResident(train)) {
        weightsVersion++;
        out = await train.step(feeds);
      } else {
        out = await train.run(feeds, store);
      }
      const probabilities = out.get(`output:${output}`)!;
      return { loss: out.get('loss')![0], correct: countCorrect(probabilities, labels, labels.length) };
    },
    async evaluate(images, labels, count) {
      // The program's batch is fixed: pad a short batch by repeating its first example.
      const size = images.length / Math.max(1, labels.length);
      const padded = new Float32Array(options.batch * size);
      const paddedLabels = new Int32Array(options.batch);
      for (let i = 0; i < options.batch; i++) {
        const from = i < count ? i : 0;
        padded.set(images.subarray(from * size, (from + 1) * size), i * size);
        paddedLabels[i] = labels[from];
      }
      await refreshHost();
      let out: Map<string, Float32Array>;
      if (isResident(evaluate)) {
        if (evalVersion !== weightsVersion) evaluate.load(store);
        evalVersion = weightsVersion;
        out = await evaluate.step(feedsFor(padded, paddedLabels));
      } else {
        out = await evaluate.run(feedsFor(padded, paddedLabels), new Map(store));
      }
      const probabilities = out.get(`output:${output}`)!.subarray(0, count * classes);
      let loss = 0;
      for (let i = 0; i < count; i++) loss -= Math.log(Math.max(probabilities[i * classes + labels[i]], 1e-30));
      return { loss: loss / Math.max(1, count), probabilities };
    },
    async saveState(): Promise<SessionState> {
      await refreshHost();
      const weights = new Map<string, Float32Array>();
      const optimizer = new Map<string, Float32Array>();
      for (const [name, value] of store) (optimizerNames.has(name) ? optimizer : weights).set(name, value.slice());
      return { weights, optimizer };
    },
    async loadState(state: SessionState): Promise<void> {
      for (const [name, value] of [...state.weights, ...state.optimizer]) {
        const current = store.get(name);
        if (!current) throw new SessionError(`unexpected tensor '${name}' (the model has no such weight or optimizer state)`);
        if (current.length !== value.length) throw new SessionError(`tensor '${name}' has ${value.length} values, the model expects ${current.length}`);
        store.set(name, value.slice());
      }
      weightsVersion++;
      hostVersion = weightsVersion;
      if (train && isResident(train)) train.load(store);
    },
    dispose(): void {
      train?.dispose();
      evaluate.dispose();
      close();
    },
  };
}
