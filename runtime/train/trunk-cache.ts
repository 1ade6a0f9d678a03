// Transfer learning with a cached frozen trunk: the frozen part of a network runs once over a data
// set (inference mode, batched) and its activations are kept on disk, so training the head costs
// only the head. A cache file is named by a hash of everything its activations depend on (the
// trunk's layers and weights, the data and its preparation): a stale cache is never reused.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GraphSplitError, splitAt } from '../../compiler/graph-split.ts';
import type { ModelGraph, Shape } from '../../compiler/graph.ts';
import { irShape } from '../../compiler/lower/layout.ts';
import { buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import { readSafetensorsFile, writeSafetensorsFile } from '../checkpoint.ts';
import { ArrayDataset, type Dataset } from '../data/dataset.ts';
import { evalBatches, type Normalization } from '../data/pipeline.ts';
import { BUNDLED_DATA, DEBIAN_FASHION_MNIST, parseDataSpec } from '../data/spec.ts';
import type { Executor, TensorStore } from '../executor.ts';
import { initialWeights } from '../init.ts';
import { padBatch } from '../pad-batch.ts';
import { cpuExecutor } from '../reference/executor.ts';
import type { HostTensor } from '../tensor.ts';
import { pickExecutor, SessionError, type Backend } from './create-session.ts';
import type { SessionState, TrainingSession } from './session.ts';
import { matchWeights } from './transfer.ts';
import { readWeightsFor } from '../weights/load.ts';

const CACHE_VERSION = 1;
const META_KEY = 'cnnc_trunk_cache';

/** How the data is prepared before the trunk sees it (what evaluation does: no augmentation). */
export interface TrunkPipeline {
  readonly fit?: { readonly height: number; readonly width: number };
  readonly normalize?: Normalization;
}

export interface TrunkCacheOptions {
  /** Folder of cache files (created when missing). */
  readonly dir: string;
  /** The trunk (from splitAt): its only output is the split layer. */
  readonly trunk: ModelGraph;
  /** Trunk parameters and running statistics by name; every one the trunk reads must be here. */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** What identifies the data: the spec, which part (train/test), a fingerprint of its files. */
  readonly data: { readonly spec: string; readonly part: string; readonly fingerprint: string };
  readonly pipeline: TrunkPipeline;
  readonly batch: number;
  /** Default: the CPU reference executor. */
  readonly executor?: Executor;
}

export interface TrunkCache {
  /** The cached activations as a data set: [C, H, W] per example for images, [F, 1, 1] for vectors. */
  readonly dataset: ArrayDataset;
  readonly path: string;
  readonly reused: boolean;
  readonly seconds: number;
}

/** Per-example shape of a trunk activation as a Dataset holds it: the IR's layout without the batch, folded to three axes. */
export function featureShape(shape: Shape): [number, number, number] {
  const ir = irShape(shape, 1).slice(1);
  if (ir.length === 1) return [ir[0]!, 1, 1];
  if (ir.length === 2) return [ir[0]!, ir[1]!, 1];
  const last = ir[ir.length - 1]!;
  return [ir[0]!, ir.slice(1, -1).reduce((a, b) => a * b, 1), last];
}

/** Sizes and modification times of the files behind a data spec, so edited data is noticed. */
export function dataFingerprint(spec: string): string {
  const files: string[] = [];
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    const s = statSync(path);
    if (s.isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    else files.push(path);
  };
  const d = parseDataSpec(spec);
  let root = '';
  switch (d.kind) {
    case 'fashion-mnist':
      root = DEBIAN_FASHION_MNIST;
      walk(root);
      walk(BUNDLED_DATA);
      break;
    case 'fashion-mnist-bundled':
      root = BUNDLED_DATA;
      walk(root);
      break;
    case 'idx':
      walk(d.images);
      walk(d.labels);
      break;
    case 'folder':
      root = d.path;
      walk(root);
      break;
    case 'safetensors':
      walk(d.path);
      break;
  }
  const hash = createHash('sha256');
  for (const f of files) {
    const s = statSync(f);
    hash.update(`${root ? relative(root, f) : f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** The persistent tensors (weights, running statistics) a program reads, by name. */
function storeFor(program: ReturnType<typeof buildInferenceProgram>, weights: ReadonlyMap<string, Float32Array>, model: string): TensorStore {
  const store: TensorStore = new Map();
  for (const leaf of leavesOf(program)) {
    if (leaf.role === 'feed') continue;
    const value = weights.get(leaf.name);
    const size = leaf.shape.reduce((a, b) => a * b, 1);
    if (!value) throw new SessionError(`the trunk of ${model} reads '${leaf.name}', which no weights provide`);
    if (value.length !== size) throw new SessionError(`trunk weight '${leaf.name}' has ${value.length} values, the model expects ${size}`);
    store.set(leaf.name, value);
  }
  return store;
}

/** The cache key: a hash of the trunk's layers and weights, the data's identity and preparation. */
export function trunkCacheKey(options: Pick<TrunkCacheOptions, 'trunk' | 'weights' | 'data' | 'pipeline'>, store: TensorStore): string {
  const { trunk } = options;
  const hash = createHash('sha256');
  const structure = {
    version: CACHE_VERSION,
    inputs: trunk.inputs.map((i) => ({ name: i.name, shape: i.shape })),
    layers: trunk.layers.map((l) => ({ name: l.name, attrs: l.attrs, inputs: l.inputs, shape: l.shape, owner: l.paramOwner })),
    outputs: trunk.outputs,
    data: options.data,
    pipeline: { fit: options.pipeline.fit ?? null, normalize: options.pipeline.normalize ?? null },
  };
  hash.update(JSON.stringify(structure));
  for (const name of [...store.keys()].sort()) {
    const v = store.get(name)!;
    hash.update(`\0${name}\0${v.length}\0`);
    hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return hash.digest('hex').slice(0, 16);
}

function cacheFileName(split: string, key: string): string {
  return `${split.replace(/[^A-Za-z0-9._-]/g, '_')}-${key}.safetensors`;
}

/** Reads a cache file when it exists and matches `key` and the data; undefined otherwise (also when damaged). */
function readCache(path: string, key: string, data: Dataset, shape: [number, number, number]): ArrayDataset | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const { tensors, metadata } = readSafetensorsFile(path);
    const meta = JSON.parse(metadata[META_KEY] ?? 'null') as { key?: string } | null;
    const images = tensors.get('images');
    const labels = tensors.get('labels');
    if (meta?.key !== key || !images || !labels || images.dtype !== 'F32' || labels.dtype !== 'I32') return undefined;
    if (images.shape.join() !== [data.length, ...shape].join() || labels.shape.join() !== String(data.length)) return undefined;
    return new ArrayDataset(images.data as Float32Array, labels.data as Int32Array, shape, data.classes, data.classNames);
  } catch {
    return undefined;
  }
}

/** Runs the trunk over every example (inference mode, in order) and returns its activations and the labels. */
export async function computeTrunkFeatures(
  trunk: ModelGraph,
  store: TensorStore,
  data: Dataset,
  pipeline: TrunkPipeline,
  batch: number,
  executor: Executor,
): Promise<{ features: Float32Array; labels: Int32Array; shape: [number, number, number] }> {
  const split = trunk.outputs[0]!;
  const input = trunk.inputs.find((i) => !i.trainable);
  if (!input || trunk.inputs.length !== 1) throw new SessionError(`the trunk of ${trunk.name} must read exactly one image input`);
  const layer = trunk.layers.find((l) => l.name === split)!;
  const shape = featureShape(layer.shape);
  const size = shape[0] * shape[1] * shape[2];
  const program = buildInferenceProgram(trunk, batch);
  const prepared = await executor.prepare(program);
  const features = new Float32Array(data.length * size);
  const labels = new Int32Array(data.length);
  try {
    let at = 0;
    for (const b of evalBatches(data, { ...pipeline, batchSize: batch })) {
      const count = b.labels.length;
      const images = padBatch(b.images, count, batch, b.images.length / count);
      const out = await prepared.run(new Map([[input.name, images]]), store);
      features.set(out.get(`output:${split}`)!.subarray(0, count * size), at * size);
      labels.set(b.labels, at);
      at += count;
    }
  } finally {
    prepared.dispose();
  }
  return { features, labels, shape };
}

/** The trunk's activations over `data`, from the cache file when it matches, else computed and written (atomically). */
export async function cacheTrunk(data: Dataset, options: TrunkCacheOptions): Promise<TrunkCache> {
  const started = performance.now();
  const split = options.trunk.outputs[0];
  if (options.trunk.outputs.length !== 1 || !split) throw new SessionError(`a trunk has one output (the split layer); ${options.trunk.name} has ${options.trunk.outputs.length}`);
  const program = buildInferenceProgram(options.trunk, options.batch);
  const store = storeFor(program, options.weights, options.trunk.name);
  const key = trunkCacheKey(options, store);
  const path = join(options.dir, cacheFileName(split, key));
  const layer = options.trunk.layers.find((l) => l.name === split)!;
  const shape = featureShape(layer.shape);
  const cached = readCache(path, key, data, shape);
  if (cached) return { dataset: cached, path, reused: true, seconds: (performance.now() - started) / 1000 };

  const computed = await computeTrunkFeatures(options.trunk, store, data, options.pipeline, options.batch, options.executor ?? cpuExecutor);
  mkdirSync(options.dir, { recursive: true });
  const tensors = new Map<string, HostTensor>([
    ['images', { dtype: 'F32', shape: [data.length, ...shape], data: computed.features }],
    ['labels', { dtype: 'I32', shape: [data.length], data: computed.labels }],
  ]);
  const meta = { version: CACHE_VERSION, key, split, layerShape: layer.shape, data: options.data, classes: data.classes };
  writeSafetensorsFile(path, tensors, { format: 'pt', [META_KEY]: JSON.stringify(meta) });
  const dataset = new ArrayDataset(computed.features, computed.labels, shape, data.classes, data.classNames);
  return { dataset, path, reused: false, seconds: (performance.now() - started) / 1000 };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/**
 * A head's training session seen as the whole model's: its state holds the frozen trunk's weights
 * too (so checkpoints load into the full model for eval), and loading a state checks that the
 * trunk's weights are the ones the cached activations were computed with.
 */
export function withFrozenTrunk(head: TrainingSession, trunk: ReadonlyMap<string, Float32Array>, trunkShapes: ReadonlyMap<string, readonly number[]>): TrainingSession {
  return {
    batchSize: head.batchSize,
    device: head.device,
    shapes: new Map([...trunkShapes, ...head.shapes]),
    feeds: head.feeds,
    terms: head.terms,
    metrics: head.metrics,
    outputs: head.outputs,
    outputShapes: head.outputShapes,
    trainStep: (feeds) => head.trainStep(feeds),
    evaluate: (feeds, count) => head.evaluate(feeds, count),
    predict: (feeds, count) => head.predict(feeds, count),
    async saveState(): Promise<SessionState> {
      const state = await head.saveState();
      const weights = new Map<string, Float32Array>();
      for (const [name, value] of trunk) weights.set(name, value.slice());
      for (const [name, value] of state.weights) weights.set(name, value);
      return { weights, optimizer: state.optimizer };
    },
    async loadState(state: SessionState): Promise<void> {
      const weights = new Map<string, Float32Array>();
      for (const [name, value] of state.weights) {
        const frozen = trunk.get(name);
        if (!frozen) weights.set(name, value);
        else if (!sameBits(frozen, value)) {
          throw new SessionError(`frozen trunk weight '${name}' differs from the one its cached activations were computed with; start from the same --weights`);
        }
      }
      await head.loadState({ weights, optimizer: state.optimizer });
    },
    dispose: () => head.dispose(),
  };
}

/** The executor to run a trunk on: the CPU reference executor, or WebGPU as createSession picks it. */
export interface CachedTrainingOptions {
  /** Folder of cache files. */
  readonly dir: string;
  /** The last frozen layer: the trunk ends there. */
  readonly freezeUntil: string;
  /** Pretrained weights file (matched by name and shape, as --weights does); else initial weights. */
  readonly weightsFile?: string;
  readonly dataSpec: string;
  readonly train: Dataset;
  readonly test?: Dataset;
  readonly pipeline: TrunkPipeline;
  readonly batch: number;
  readonly backend: Backend;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface CachedTraining {
  /** The graph to train: the layers after the trunk, fed the trunk's activations. */
  readonly head: ModelGraph;
  /** Cached trunk activations of the training (and test) examples. */
  readonly train: Dataset;
  readonly test?: Dataset;
  /** Wraps the head's session so its state is the whole model's (see withFrozenTrunk). */
  attach(session: TrainingSession): TrainingSession;
}

/**
 * Splits `graph` after `freezeUntil`, computes or reuses the trunk's activations for the training
 * and test sets, and returns the head to train on them. Logs what was cached or reused and how long it took.
 */
export async function prepareCachedTraining(graph: ModelGraph, options: CachedTrainingOptions): Promise<CachedTraining> {
  let parts;
  try {
    parts = splitAt(graph, options.freezeUntil);
  } catch (e) {
    // SessionError is one of the errors the command line reports as the user's to fix.
    if (e instanceof GraphSplitError) throw new SessionError(`--cache-trunk: ${e.message}`);
    throw e;
  }
  const { trunk, head, split } = parts;
  const weights = initialWeights(graph, options.seed);
  const shapes = new Map<string, readonly number[]>();
  for (const l of graph.layers) for (const p of l.params) shapes.set(p.name, p.shape);
  if (options.weightsFile) {
    const match = matchWeights((await readWeightsFor(graph, options.weightsFile)).tensors, shapes, new Set());
    for (const [name, value] of match.state.weights) weights.set(name, value);
  }
  const trunkNames = new Set(leavesOf(buildInferenceProgram(trunk, 1)).filter((l) => l.role !== 'feed').map((l) => l.name));
  const trunkWeights = new Map([...weights].filter(([name]) => trunkNames.has(name)));
  const trunkShapes = new Map([...shapes].filter(([name]) => trunkNames.has(name)));
  const fingerprint = dataFingerprint(options.dataSpec);
  const { executor, close } = await pickExecutor(options.backend);
  const layer = graph.layers.find((l) => l.name === split)!;
  options.log(`trunk cache: ${trunk.layers.length} frozen layer(s) up to ${split} run once; training the ${head.layers.length} layer(s) after it on their activations`);
  const run = async (data: Dataset, part: string): Promise<Dataset> => {
    const c = await cacheTrunk(data, { dir: options.dir, trunk, weights: trunkWeights, data: { spec: options.dataSpec, part, fingerprint }, pipeline: options.pipeline, batch: options.batch, executor });
    const what = `${data.length} ${part} examples through ${split} (${layer.shape.join('x')})`;
    options.log(`trunk cache: ${c.reused ? 'reused' : 'computed'} ${what} in ${c.seconds.toFixed(2)} s: ${c.path}`);
    return c.dataset;
  };
  try {
    const train = await run(options.train, 'train');
    const test = options.test ? await run(options.test, 'test') : undefined;
    return { head, train, ...(test ? { test } : {}), attach: (session) => withFrozenTrunk(session, trunkWeights, trunkShapes) };
  } finally {
    close();
  }
}
