// The model object a bundle's `createModel` returns: weights and optimizer state live on the device
// in one buffer per tensor, shared by the training step and the evaluation program; training,
// evaluation and prediction upload a batch and run one command buffer. Browser-safe.

import { readSafetensors, writeSafetensors } from '../safetensors.ts';
import type { HostTensor } from '../tensor.ts';
import { PipelineCache } from '../webgpu/pipelines.ts';
import { initialValue } from './init.ts';
import type { BundleSpec, FeedSpec } from './plan.ts';
import { BundleError, preparePlan } from './program.ts';

export interface ModelOptions {
  /** Seeds the initial weights (as `cnnc train --seed`) and dropout. Default 0. */
  readonly seed?: number;
  /** Starting weights as safetensors bytes, instead of the seeded initialisation. */
  readonly weights?: Uint8Array;
}

/** One batch: images NCHW (batch x C x H x W floats) and one class index per image. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: ArrayLike<number>;
}

export interface FitOptions {
  readonly epochs?: number;
  /** Called after each step with its loss, in order. */
  readonly onStep?: (step: number, loss: number) => void;
}

/** A bundled model; `W` is the union of its weight names. */
export interface BundledModel<W extends string = string> {
  readonly name: string;
  readonly batch: number;
  /** Dispatches per training step (one command buffer). */
  readonly dispatches: number;
  /** One optimizer step on a full batch; resolves to the batch's mean loss. */
  trainStep(batch: Batch): Promise<number>;
  /** Trains on every batch, `epochs` times, keeping one step in flight while the next is encoded. */
  fit(batches: Iterable<Batch> | AsyncIterable<Batch>, options?: FitOptions): Promise<{ readonly steps: number; readonly losses: readonly number[] }>;
  /** Mean loss and accuracy over up to `batch` examples (a short batch is padded). */
  evaluate(batch: Batch): Promise<{ readonly loss: number; readonly accuracy: number }>;
  /** Class probabilities, `count x classes`, for `count` images (at most one batch). */
  predict(images: Float32Array): Promise<Float32Array>;
  /** Every weight (not optimizer state), read back from the device. */
  getWeights(): Promise<Map<W, Float32Array>>;
  /** Replaces weights by name; unknown names and wrong sizes are errors. */
  setWeights(weights: ReadonlyMap<W, Float32Array>): void;
  /** Weights as safetensors bytes (PyTorch layout, names `<layer>.weight`, ...). */
  saveWeights(): Promise<Uint8Array>;
  loadWeights(bytes: Uint8Array, source?: string): void;
  dispose(): void;
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

export async function createBundledModel<W extends string = string>(device: GPUDevice, spec: BundleSpec, options: ModelOptions = {}): Promise<BundledModel<W>> {
  const seed = options.seed ?? 0;
  const tensors = new Map<string, GPUBuffer>();
  const make = (name: string, shape: readonly number[]): void => {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    tensors.set(name, device.createBuffer({ size: Math.max(4, size(shape) * 4), usage, label: name }));
  };
  for (const w of spec.weights) make(w.name, w.shape);
  for (const s of spec.state) make(s.name, s.shape);
  for (const f of spec.feeds) make(f.name, f.shape);
  const write = (name: string, data: Float32Array): void => device.queue.writeBuffer(tensors.get(name)!, 0, data as Float32Array<ArrayBuffer>);
  for (const w of spec.weights) write(w.name, initialValue(w, seed));
  for (const s of spec.state) write(s.name, new Float32Array(size(s.shape)));

  const cache = new PipelineCache(device);
  const [train, evaluation] = await Promise.all([preparePlan(device, spec.train, spec.wgsl, tensors, cache), preparePlan(device, spec.eval, spec.wgsl, tensors, cache)]);
  const weightByName = new Map(spec.weights.map((w) => [w.name, w]));
  const imageSize = size(spec.input.shape);
  const classes = spec.output.classes;
  const probabilities = `output:${spec.output.name}`;
  let steps = 0;

  const feed = (f: FeedSpec, images: Float32Array, labels: ArrayLike<number>): void => {
    if (f.kind === 'images') {
      if (images.length !== size(f.shape)) throw new BundleError(`'${f.name}' needs ${size(f.shape)} floats (shape ${f.shape.join('x')}), got ${images.length}`);
      write(f.name, images);
    } else if (f.kind === 'labels') {
      if (labels.length !== size(f.shape)) throw new BundleError(`labels: need ${size(f.shape)} class indices, got ${labels.length}`);
      write(f.name, Float32Array.from(labels));
    } else {
      write(f.name, new Float32Array([(seed * 1_000_003 + steps) % 16_777_216]));
    }
  };
  /** A full batch from `count` images: the rest repeat the first (their results are dropped). */
  const padded = (images: Float32Array, labels: ArrayLike<number>): { images: Float32Array; labels: Float32Array; count: number } => {
    const count = images.length / imageSize;
    if (!Number.isInteger(count) || count < 1 || count > spec.batch) {
      throw new BundleError(`expected 1 to ${spec.batch} images of ${spec.input.shape.join('x')} (${imageSize} floats each), got ${images.length} floats`);
    }
    const out = new Float32Array(spec.batch * imageSize);
    const outLabels = new Float32Array(spec.batch);
    for (let i = 0; i < spec.batch; i++) {
      const from = i < count ? i : 0;
      out.set(images.subarray(from * imageSize, (from + 1) * imageSize), i * imageSize);
      outLabels[i] = labels[from] ?? 0;
    }
    return { images: out, labels: outLabels, count };
  };
  const submitStep = (batch: Batch): Promise<number> => {
    for (const f of spec.feeds) feed(f, batch.images, batch.labels);
    steps++;
    return train.run(['loss']).then((out) => out.get('loss')![0]!);
  };
  const readTensors = async (names: readonly string[]): Promise<Map<string, Float32Array>> => {
    const encoder = device.createCommandEncoder();
    let total = 0;
    const at = names.map((name) => {
      const bytes = size(weightByName.get(name)!.shape) * 4;
      const r = { name, offset: total, bytes };
      total += bytes;
      return r;
    });
    const staging = device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (const r of at) encoder.copyBufferToBuffer(tensors.get(r.name)!, 0, staging, r.offset, r.bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return new Map(at.map((r) => [r.name, all.slice(r.offset / 4, (r.offset + r.bytes) / 4)]));
  };
  const setWeights = (weights: ReadonlyMap<string, Float32Array>): void => {
    for (const [name, data] of weights) {
      const w = weightByName.get(name);
      if (w === undefined) throw new BundleError(`model ${spec.model} has no weight '${name}'`);
      if (data.length !== size(w.shape)) throw new BundleError(`weight '${name}' has ${data.length} values, ${spec.model} expects ${size(w.shape)} (shape ${w.shape.join('x')})`);
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

  return {
    name: spec.model,
    batch: spec.batch,
    dispatches: train.dispatches,
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
      const p = padded(batch.images, batch.labels);
      for (const f of spec.feeds) feed(f, p.images, p.labels);
      const out = (await evaluation.run([probabilities])).get(probabilities)!;
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < p.count; i++) {
        const row = out.subarray(i * classes, (i + 1) * classes);
        let best = 0;
        for (let k = 1; k < classes; k++) if (row[k]! > row[best]!) best = k;
        if (best === p.labels[i]) correct++;
        loss -= Math.log(Math.max(row[p.labels[i]!]!, 1e-30));
      }
      return { loss: loss / p.count, accuracy: correct / p.count };
    },
    async predict(images) {
      const p = padded(images, new Float32Array(spec.batch));
      for (const f of spec.feeds) feed(f, p.images, p.labels);
      const out = (await evaluation.run([probabilities])).get(probabilities)!;
      return out.slice(0, p.count * classes);
    },
    // The names come from the spec, whose weight names W lists.
    getWeights: () => readTensors(spec.weights.map((w) => w.name)) as Promise<Map<W, Float32Array>>,
    setWeights,
    async saveWeights() {
      const weights = await readTensors(spec.weights.map((w) => w.name));
      const list = new Map<string, HostTensor>();
      for (const w of spec.weights) list.set(w.name, { dtype: 'F32', shape: [...w.shape], data: weights.get(w.name)! });
      return writeSafetensors(list, { format: 'pt', model: spec.model });
    },
    loadWeights,
    dispose() {
      train.dispose();
      evaluation.dispose();
      for (const b of tensors.values()) b.destroy();
    },
  };
}
