// Builds a TrainingSession from a typed model graph: compiles the training step (forward, loss,
// backward, optimizer update) and, when first asked, evaluation and inference programs to IR;
// prepares them on a backend (WebGPU when an adapter exists, else the CPU reference executor),
// and initialises the weights. Any model trains that declares a loss: its feeds are its inputs and
// its loss targets, whatever their names and ranks.

import type { ModelGraph } from '../../compiler/graph.ts';
import { buildEvalProgram, buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { lowerModel, SEED_FEED } from '../../compiler/lower/lower.ts';
import { isResident, type Executor, type Feeds, type PreparedProgram, type TensorStore } from '../executor.ts';
import { dropoutSeed } from '../dropout-seed.ts';
import { initialWeights } from '../init.ts';
import { checkMemoryBudget } from '../memory-budget.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { buildTrainStep } from '../../compiler/optim/train-step.ts';
import { cpuExecutor } from '../reference/executor.ts';
import { modelFeeds, termLabel, type ModelFeed } from '../../compiler/feeds.ts';
import { measureAll, metricsFor, observedValues } from './metrics.ts';
import type { EvalResult, SessionState, StepResult, TrainingSession } from './session.ts';
import { UserError } from '../../grammar/user-error.ts';

export type Backend = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export interface SessionOptions {
  readonly batch: number;
  /** Absent: an inference-only session (eval, predict) that compiles no training step. */
  readonly optimizer?: OptimizerConfig;
  readonly backend: Backend;
  /** Seeds the initial weights and dropout. */
  readonly seed: number;
}

export class SessionError extends UserError {
  override readonly name = 'SessionError';
}

/** A model with a loss can train; one without (an encoder) can only predict. */
export function checkTrainable(graph: ModelGraph): void {
  if (graph.loss.length === 0) throw new SessionError(`model ${graph.name} declares no loss; add e.g. \`loss cross_entropy\``);
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
  if (backend === 'wasm') return await openWasmExecutor();
  const onCpu = async (why: string, release: () => void) => {
    const wasm = await openWasmExecutor();
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
  if (options.optimizer) checkTrainable(graph);
  checkMemoryBudget(graph, options.batch, options.optimizer !== undefined);
  const feeds = modelFeeds(graph);
  const metrics = graph.loss.length > 0 ? metricsFor(graph) : [];
  const observe = observedValues(metrics);
  const step = options.optimizer ? buildTrainStep(graph, options.batch, options.optimizer, observe) : undefined;
  const { executor, device, note, close } = await pickExecutor(options.backend);
  const train: PreparedProgram | undefined = step ? await executor.prepare(step.program) : undefined;

  const persistent = step?.persistent ?? lowerModel(graph, { batch: options.batch, mode: 'eval' }).persistent;
  const initial = initialWeights(graph, options.seed);
  const store: TensorStore = new Map();
  for (const [name, shape] of persistent) {
    const size = shape.reduce((a, b) => a * b, 1);
    const value = initial.get(name);
    store.set(name, value && value.length === size ? value : new Float32Array(size));
  }
  // On WebGPU the weights stay on the device between steps; the host copy (`store`) is refreshed
  // only when someone reads it (a checkpoint, an evaluation on another program).
  let weightsVersion = 0;
  let hostVersion = 0;
  if (train && isResident(train)) train.load(store);
  const refreshHost = async () => {
    if (hostVersion === weightsVersion) return;
    if (train && isResident(train)) await train.save(store);
    hostVersion = weightsVersion;
  };
  const optimizerNames = new Set(step?.optimizerState.keys() ?? []);
  const shapes = new Map<string, readonly number[]>([...persistent]);
  let stepCount = 0;

  // Evaluation and inference programs are compiled for the exact number of examples asked for
  // (a full batch, and the shorter last one), so losses and batchnorm-free outputs are exact.
  const programs = new Map<string, { prepared: PreparedProgram; version: number }>();
  const runProgram = async (kind: 'eval' | 'predict', count: number, input: Feeds): Promise<Map<string, Float32Array>> => {
    const key = `${kind}:${count}`;
    let entry = programs.get(key);
    if (!entry) {
      const program = kind === 'eval' ? buildEvalProgram(graph, count, observe) : buildInferenceProgram(graph, count);
      entry = { prepared: await executor.prepare(program), version: -1 };
      programs.set(key, entry);
    }
    await refreshHost();
    const p = entry.prepared;
    if (isResident(p)) {
      if (entry.version !== weightsVersion) p.load(store);
      entry.version = weightsVersion;
      return p.step(input);
    }
    return p.run(input, new Map(store));
  };
  const checkFeeds = (given: Feeds, count: number, roles: ReadonlySet<ModelFeed['role']>): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    for (const f of feeds) {
      if (!roles.has(f.role)) continue;
      const value = given.get(f.name);
      const size = count * f.shape.reduce((a, b) => a * b, 1);
      if (!value) throw new SessionError(`no feed '${f.name}' (${f.what}); feeds given: ${[...given.keys()].join(', ') || 'none'}`);
      if (value.length !== size) throw new SessionError(`feed '${f.name}' has ${value.length} values; ${count} examples of ${f.what} need ${size}`);
      out.set(f.name, value);
    }
    return out;
  };
  const results = (out: ReadonlyMap<string, Float32Array>, given: Feeds, count: number): StepResult => ({
    loss: out.get('loss')![0]!,
    terms: graph.loss.map((_, i) => out.get(`term:${i}`)![0]!),
    tallies: measureAll(metrics, out, given, count),
  });
  // Evaluation and inference programs hold exactly `count` examples: every output row is real.
  const modelOutputs = (out: ReadonlyMap<string, Float32Array>) => new Map(graph.outputs.map((name) => [name, out.get(`output:${name}`)!] as const));
  const ALL = new Set<ModelFeed['role']>(['input', 'target']);
  const INPUTS = new Set<ModelFeed['role']>(['input']);

  return {
    batchSize: options.batch,
    device,
    ...(note ? { deviceNote: note } : {}),
    shapes,
    feeds,
    terms: graph.loss.map((t) => ({ label: termLabel(t), weight: t.weight })),
    metrics,
    outputs: graph.outputs,
    outputShapes: new Map(graph.outputs.map((name) => [name, graph.layers.find((l) => l.name === name)?.shape ?? graph.inputs.find((i) => i.name === name)?.shape ?? []] as const)),
    async trainStep(given): Promise<StepResult> {
      if (!train || !step) throw new SessionError('this session was opened for inference only');
      const input = checkFeeds(given, options.batch, ALL);
      if (step.feeds.has(SEED_FEED)) input.set(SEED_FEED, dropoutSeed(options.seed, stepCount));
      stepCount++;
      let out: Map<string, Float32Array>;
      if (isResident(train)) {
        weightsVersion++;
        out = await train.step(input);
      } else {
        out = await train.run(input, store);
      }
      return results(out, input, options.batch);
    },
    async evaluate(given, count): Promise<EvalResult> {
      if (graph.loss.length === 0) throw new SessionError(`model ${graph.name} declares no loss to evaluate`);
      const input = checkFeeds(given, count, ALL);
      const out = await runProgram('eval', count, input);
      return { ...results(out, input, count), outputs: modelOutputs(out) };
    },
    async predict(given, count) {
      const out = await runProgram('predict', count, checkFeeds(given, count, INPUTS));
      return modelOutputs(out);
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
      for (const p of programs.values()) p.prepared.dispose();
      close();
    },
  };
}
