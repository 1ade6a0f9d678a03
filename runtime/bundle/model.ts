// The model object a bundle's `createModel` returns: batches checked and padded, weights seeded,
// loaded and saved, the training step and evaluation run on a back end (engine.ts): WebGPU when a
// device is given or the page has an adapter, else the wasm back end. Browser-safe.

import { dropoutSeed } from '../dropout-seed.ts';
import { initialValue } from '../init.ts';
import { padBatch } from '../pad-batch.ts';
import { readSafetensors, writeSafetensors } from '../safetensors.ts';
import { elementCount, type HostTensor } from '../tensor.ts';
import type { BackendInfo, BundleEngine } from './engine.ts';
import type { BundleSpec, FeedSpec, OutputSpec } from './plan.ts';
import { wasmEngine } from './wasm-engine.ts';
import { webgpuEngine } from './webgpu-engine.ts';
import { UserError } from '../../grammar/user-error.ts';

/** A batch, weights or a call that does not fit the bundled model. */
export class BundleError extends UserError {
  override readonly name = 'BundleError';
}

export interface ModelOptions {
  /** Seeds the initial weights (as `cnnc train --seed`) and dropout. Default 0. */
  readonly seed?: number;
  /** Starting weights as safetensors bytes, instead of the seeded initialisation. */
  readonly weights?: Uint8Array;
  /**
   * `auto` (the default): WebGPU on the device given, else on the page's adapter
   * (`navigator.gpu`), else the wasm back end. `webgpu` fails without one; `wasm` never uses WebGPU.
   */
  readonly backend?: 'auto' | 'webgpu' | 'wasm';
  /** wasm: threads to split kernels over (default every core, where memory can be shared). */
  readonly threads?: number;
  /**
   * Receives the one line saying where the model runs (`backend.description`) when createModel
   * chose (no device given); default console.info, false for none.
   */
  readonly log?: ((line: string) => void) | false;
}

/** A classifier's batch: images NCHW (batch x C x H x W floats) and one class index per image. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: ArrayLike<number>;
}

/** Any model's batch: every input and loss target by name, batch axis first, PyTorch layout (NCHW). */
export type FeedValues = Readonly<Record<string, Float32Array | ArrayLike<number>>>;

export interface FitOptions {
  readonly epochs?: number;
  /** Called after each step with its loss, in order. */
  readonly onStep?: (step: number, loss: number) => void;
}

/**
 * A bundled model; `W` is the union of its weight names, `F` its feeds (inputs and loss targets by
 * name), `I` its inputs and `O` its outputs. A classifier also takes `{ images, labels }` batches.
 */
export interface BundledModel<W extends string = string, F = FeedValues, I = FeedValues, O = Record<string, Float32Array>> {
  readonly name: string;
  readonly batch: number;
  /** Where it runs: WebGPU, or wasm on how many threads, and why. */
  readonly backend: BackendInfo;
  /** Kernels per training step (on WebGPU one command buffer). */
  readonly dispatches: number;
  /** One optimizer step on a full batch; resolves to the batch's loss (the weighted sum of its terms). */
  trainStep(batch: F | Batch): Promise<number>;
  /** Trains on every batch, `epochs` times, keeping one step in flight while the next is encoded. */
  fit(batches: Iterable<F | Batch> | AsyncIterable<F | Batch>, options?: FitOptions): Promise<{ readonly steps: number; readonly losses: readonly number[] }>;
  /**
   * Inference-mode loss of a batch and each loss term; a classifier also gets its accuracy over up
   * to `batch` examples (a short batch is padded); other models evaluate full batches.
   */
  evaluate(batch: F | Batch): Promise<{ readonly loss: number; readonly terms: readonly number[]; readonly accuracy?: number }>;
  /** A classifier's probabilities, `count x classes`, for `count` images (at most one batch). */
  predict(images: Float32Array): Promise<Float32Array>;
  /** Every output for up to `batch` examples of the inputs, `count` rows each. */
  predict(inputs: I): Promise<O>;
  /** Every weight (not optimizer state), read back from the device. */
  getWeights(): Promise<Map<W, Float32Array>>;
  /** Replaces weights by name; unknown names and wrong sizes are errors. */
  setWeights(weights: ReadonlyMap<W, Float32Array>): void;
  /** Weights as safetensors bytes (PyTorch layout, names `<layer>.weight`, ...). */
  saveWeights(): Promise<Uint8Array>;
  loadWeights(bytes: Uint8Array, source?: string): void;
  dispose(): void;
}


/** The back end `options` ask for: the device given, the page's WebGPU adapter, or wasm (and why). */
async function openEngine(device: GPUDevice | null | undefined, spec: BundleSpec, options: ModelOptions): Promise<BundleEngine> {
  const backend = options.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm'].includes(backend)) throw new BundleError(`model ${spec.model}: backend must be 'auto', 'webgpu' or 'wasm', got '${String(backend)}'`);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) throw new BundleError(`model ${spec.model}: threads must be a positive integer, got ${options.threads}`);
  if (backend === 'wasm') return wasmEngine(spec, options.threads, 'asked for');
  if (device) return webgpuEngine(device, spec, false, 'the device given');
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (adapter) return webgpuEngine(await adapter.requestDevice(), spec, true, 'the page\'s adapter');
  const why = gpu ? 'no WebGPU adapter' : 'no WebGPU here';
  if (backend === 'webgpu') throw new BundleError(`model ${spec.model}: backend 'webgpu' asked for, but there is ${why} (pass a GPUDevice, or backend 'auto' to fall back to wasm)`);
  return wasmEngine(spec, options.threads, why);
}

export async function createBundledModel<W extends string = string, F = FeedValues, I = FeedValues, O = Record<string, Float32Array>>(device: GPUDevice | null | undefined, spec: BundleSpec, options: ModelOptions = {}): Promise<BundledModel<W, F, I, O>> {
  const seed = options.seed ?? 0;
  const engine = await openEngine(device, spec, options);
  if (!device && options.log !== false) (options.log ?? console.info)(engine.backend.description);
  const write = (name: string, data: Float32Array): void => engine.write(name, data);
  for (const w of spec.weights) write(w.name, initialValue(w.name, w.shape, w.init, seed));
  for (const s of spec.state) write(s.name, new Float32Array(elementCount(s.shape)));
  const weightByName = new Map(spec.weights.map((w) => [w.name, w]));
  const perExample = (f: FeedSpec): number => elementCount(f.shape.slice(1));
  let steps = 0;

  /** The values for feed `f` in `given`: by name, or a classifier batch's `images` / `labels`. */
  const valueOf = (f: FeedSpec, given: FeedValues | Batch): ArrayLike<number> | undefined => {
    const named = (given as FeedValues)[f.name];
    if (named !== undefined) return named;
    if (f.kind === 'input' && f.name === spec.input?.name && 'images' in given) return given.images;
    if (f.kind === 'target' && f.classes !== undefined && 'labels' in given) return given.labels;
    return undefined;
  };
  /** How many examples `given` holds (from its first input); every other feed must hold as many. */
  const countOf = (given: FeedValues | Batch): number => {
    const first = spec.feeds.find((f) => f.kind === 'input');
    if (!first) return spec.batch;
    const v = valueOf(first, given);
    if (v === undefined) throw new BundleError(`no '${first.name}' in the batch (feeds: ${spec.feeds.filter((f) => f.kind !== 'seed').map((f) => f.name).join(', ')})`);
    const count = v.length / perExample(first);
    if (!Number.isInteger(count) || count < 1 || count > spec.batch) {
      throw new BundleError(`'${first.name}' needs 1 to ${spec.batch} examples of ${perExample(first)} floats (shape ${first.shape.join('x')}), got ${v.length}`);
    }
    return count;
  };
  /**
   * Uploads every feed for `count` examples, a short batch padded with zeros (their results are
   * dropped). Targets may be absent when only outputs are read (`zeros`).
   */
  const upload = (given: FeedValues | Batch, count: number, missingTargets: 'error' | 'zeros'): void => {
    for (const f of spec.feeds) {
      if (f.kind === 'seed') {
        write(f.name, dropoutSeed(seed, steps));
        continue;
      }
      const n = perExample(f);
      const v = valueOf(f, given);
      if (v === undefined) {
        if (f.kind === 'target' && missingTargets === 'zeros') {
          write(f.name, new Float32Array(elementCount(f.shape)));
          continue;
        }
        throw new BundleError(`no '${f.name}' in the batch (feeds: ${spec.feeds.filter((x) => x.kind !== 'seed').map((x) => x.name).join(', ')})`);
      }
      if (v.length !== count * n) throw new BundleError(`'${f.name}' needs ${count * n} floats (${count} x ${f.shape.slice(1).join('x') || 'a scalar'}), got ${v.length}`);
      write(f.name, padBatch(v, count, spec.batch, n));
    }
  };
  const termNames = spec.terms.map((_, i) => `term:${i}`);
  const submitStep = (batch: FeedValues | Batch): Promise<number> => {
    const count = countOf(batch);
    if (count !== spec.batch) throw new BundleError(`a training step takes a full batch of ${spec.batch} examples, got ${count}`);
    upload(batch, count, 'error');
    steps++;
    return engine.run('train', ['loss']).then((out) => out.get('loss')![0]!);
  };
  const setWeights = (weights: ReadonlyMap<string, Float32Array>): void => {
    for (const [name, data] of weights) {
      const w = weightByName.get(name);
      if (w === undefined) throw new BundleError(`model ${spec.model} has no weight '${name}'`);
      if (data.length !== elementCount(w.shape)) throw new BundleError(`weight '${name}' has ${data.length} values, ${spec.model} expects ${elementCount(w.shape)} (shape ${w.shape.join('x')})`);
      write(name, data);
    }
  };
  const loadWeights = (bytes: Uint8Array, source = 'weights'): void => {
    const file = readSafetensors(bytes, source);
    const weights = new Map<string, Float32Array>();
    for (const [name, t] of file) {
      if (t.dtype !== 'F32') throw new BundleError(`${source}: '${name}' is ${t.dtype}; bundles load F32 weights`);
      weights.set(name, t.data as Float32Array);
    }
    setWeights(weights);
  };
  if (options.weights !== undefined) loadWeights(options.weights, 'options.weights');

  const model: BundledModel<W> = {
    name: spec.model,
    batch: spec.batch,
    backend: engine.backend,
    dispatches: engine.dispatches,
    // async: a bad batch rejects the promise rather than throwing at the call.
    trainStep: async (batch) => submitStep(batch),
    async fit(batches, fitOptions = {}) {
      const losses: number[] = [];
      let inFlight: Promise<number> | undefined;
      const settle = async (): Promise<void> => {
        if (inFlight === undefined) return;
        const loss = await inFlight;
        losses.push(loss);
        fitOptions.onStep?.(losses.length, loss);
      };
      for (let epoch = 0; epoch < (fitOptions.epochs ?? 1); epoch++) {
        for await (const batch of batches) {
          const next = submitStep(batch);
          await settle();
          inFlight = next;
        }
      }
      await settle();
      return { steps: losses.length, losses };
    },
    async evaluate(batch) {
      const count = countOf(batch);
      const classifier = spec.output;
      if (count !== spec.batch && !classifier) throw new BundleError(`evaluate takes a full batch of ${spec.batch} examples, got ${count}`);
      upload(batch, count, 'error');
      const probabilities = classifier ? `output:${classifier.name}` : undefined;
      const out = await engine.run('eval', ['loss', ...termNames, ...(probabilities ? [probabilities] : [])]);
      const terms = termNames.map((t) => out.get(t)![0]!);
      if (!classifier || !probabilities) return { loss: out.get('loss')![0]!, terms };
      // Accuracy (and, for a short batch, the loss) from the probabilities of the real examples only.
      const labelFeed = spec.feeds.find((f) => f.kind === 'target' && f.classes !== undefined)!;
      const labels = valueOf(labelFeed, batch)!;
      const p = out.get(probabilities)!;
      const classes = classifier.classes;
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < count; i++) {
        const row = p.subarray(i * classes, (i + 1) * classes);
        let best = 0;
        for (let k = 1; k < classes; k++) if (row[k]! > row[best]!) best = k;
        if (best === labels[i]) correct++;
        loss -= Math.log(Math.max(row[labels[i]!]!, 1e-30));
      }
      return { loss: count === spec.batch && spec.terms.length === 1 ? out.get('loss')![0]! : loss / count, terms, accuracy: correct / count };
    },
    predict: (async (given: Float32Array | FeedValues) => {
      if (given instanceof Float32Array) {
        if (!spec.input || !spec.output) throw new BundleError(`model ${spec.model} is not a classifier of one image input: call predict({ ${spec.feeds.filter((f) => f.kind === 'input').map((f) => f.name).join(', ')} })`);
        const feeds = { [spec.input.name]: given };
        const count = countOf(feeds);
        upload(feeds, count, 'zeros');
        const name = `output:${spec.output.name}`;
        return (await engine.run('eval', [name])).get(name)!.slice(0, count * spec.output.classes);
      }
      const count = countOf(given);
      upload(given, count, 'zeros');
      const programName = (o: OutputSpec) => `output:${o.tensor ?? o.name}`;
      const out = await engine.run('eval', spec.outputs.map(programName));
      return Object.fromEntries(spec.outputs.map((o) => [o.name, out.get(programName(o))!.slice(0, count * elementCount(o.shape))]));
    }) as BundledModel<W>['predict'],
    // The names come from the spec, whose weight names W lists.
    getWeights: () => engine.read(spec.weights.map((w) => w.name)) as Promise<Map<W, Float32Array>>,
    setWeights,
    async saveWeights() {
      const weights = await engine.read(spec.weights.map((w) => w.name));
      const list = new Map<string, HostTensor>();
      for (const w of spec.weights) list.set(w.name, { dtype: 'F32', shape: [...w.shape], data: weights.get(w.name)! });
      return writeSafetensors(list, { format: 'pt', model: spec.model });
    },
    loadWeights,
    dispose: () => engine.dispose(),
  };
  // F, I and O only name the spec's feeds and outputs for the generated module's types: the same records at run time.
  return model as unknown as BundledModel<W, F, I, O>;
}
