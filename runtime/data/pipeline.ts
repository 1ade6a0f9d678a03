// From a Dataset to NCHW batches: seeded shuffling, fit to size, augmentation, normalisation.
// Planning (which examples, which seeds) is separate from making a batch, so batches can be made on worker
// threads and still be identical to the single-thread path: a batch depends only on its BatchJob.

import { Rng } from './random.ts';
import { DataError, type Dataset } from './dataset.ts';
import { augmentImage, augmentedShape, fitCenter, tenCrop, validateAugmentOptions, type AugmentOptions, type ImageShape } from './augment.ts';

/** Per-channel normalisation: (x - mean[c]) / std[c]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface PipelineOptions {
  batchSize: number;
  /** Shuffle the order each epoch (default true). */
  shuffle?: boolean;
  /** Seed for the order and the augmentations (default 0). */
  seed?: number;
  /** Drop the last, smaller batch of an epoch (default false). */
  dropLast?: boolean;
  /** Centre pad or crop every image to height x width first (e.g. 28x28 -> 32x32 for LeNet-5). */
  fit?: { height: number; width: number };
  augment?: AugmentOptions;
  normalize?: Normalization;
}

export interface Batch {
  /** N x C x H x W. */
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
  /** Example indices in the data set. */
  indices: Int32Array;
}

/** Where a stream stands: enough to continue with exactly the same next batch. */
export interface StreamState {
  epoch: number;
  batchInEpoch: number;
  /** The Rng state at the start of `epoch` (the epoch's order and augmentation seed are drawn from it). */
  rng: string;
}

/** Everything needed to make one batch, on any thread. */
export interface BatchJob {
  epoch: number;
  batchInEpoch: number;
  /** True for the epoch's last batch. */
  lastInEpoch: boolean;
  indices: Int32Array;
  augmentSeed: number;
  /** The stream state once this batch is consumed (what a checkpoint written after this step stores). */
  after: StreamState;
}

/** Shape of one prepared example: after fit and augmentation. */
export function exampleShape(ds: Dataset, options: PipelineOptions): ImageShape {
  const fitted: ImageShape = options.fit ? [ds.shape[0], options.fit.height, options.fit.width] : ds.shape;
  return options.augment ? augmentedShape(fitted, options.augment) : fitted;
}

export function validatePipeline(ds: Dataset, options: PipelineOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) throw new DataError(`batch size must be a positive integer, got ${options.batchSize}`);
  if (ds.length === 0) throw new DataError('the data set is empty');
  if (options.dropLast && ds.length < options.batchSize) {
    throw new DataError(`batch size ${options.batchSize} is larger than the data set (${ds.length} examples) and the last batch is dropped: no batches`);
  }
  const c = ds.shape[0];
  if (options.fit && !(options.fit.height > 0 && options.fit.width > 0)) throw new DataError(`fit size must be positive, got ${options.fit.height} x ${options.fit.width}`);
  if (options.augment) validateAugmentOptions(options.fit ? [c, options.fit.height, options.fit.width] : ds.shape, options.augment);
  const n = options.normalize;
  if (n) {
    if (n.mean.length !== c || n.std.length !== c) throw new DataError(`normalisation needs ${c} means and stds (one per channel), got ${n.mean.length} and ${n.std.length}`);
    const bad = n.std.find((s) => !(s > 0));
    if (bad !== undefined) throw new DataError(`normalisation std ${bad} must be positive`);
  }
}

/** Example `index`, centre padded or cropped to `fit` when given. */
function fittedExample(ds: Dataset, index: number, fit: PipelineOptions['fit']): { image: Float32Array; shape: ImageShape; label: number } {
  const e = ds.get(index);
  if (!fit) return { image: e.image, shape: ds.shape, label: e.label };
  return { image: fitCenter(e.image, ds.shape, fit.height, fit.width), shape: [ds.shape[0], fit.height, fit.width], label: e.label };
}

/** One example through fit -> augment -> normalise. `rng` is only drawn from when augmenting. */
export function prepareExample(ds: Dataset, index: number, options: PipelineOptions, rng: Rng): { image: Float32Array; label: number } {
  const e = fittedExample(ds, index, options.fit);
  let { image, shape } = e;
  if (options.augment) ({ image, shape } = augmentImage(image, shape, options.augment, rng));
  if (options.normalize) normalizeInPlace(image, shape, options.normalize);
  return { image, label: e.label };
}

export function normalizeInPlace(image: Float32Array, [c, h, w]: ImageShape, { mean, std }: Normalization): void {
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const m = mean[ch];
    const inv = 1 / std[ch];
    for (let i = ch * plane; i < (ch + 1) * plane; i++) image[i] = (image[i] - m) * inv;
  }
}

/** Makes the batch a job describes. Deterministic: the same job gives the same bytes on any thread. */
export function makeBatch(ds: Dataset, job: Pick<BatchJob, 'indices' | 'augmentSeed' | 'batchInEpoch'>, options: PipelineOptions): Batch {
  const [c, h, w] = exampleShape(ds, options);
  const n = job.indices.length;
  const size = c * h * w;
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    // One generator per example, keyed by its place in the epoch: independent of threads and of other examples.
    const rng = Rng.seeded(job.augmentSeed, job.batchInEpoch, j);
    const e = prepareExample(ds, job.indices[j], options, rng);
    images.set(e.image, j * size);
    labels[j] = e.label;
  }
  return { images, labels, shape: [n, c, h, w], indices: job.indices };
}

/** Per-channel mean and standard deviation of (up to maxExamples of) a data set, for `normalize`. */
export function channelStats(ds: Dataset, maxExamples = 10_000): Normalization {
  const [c, h, w] = ds.shape;
  const n = Math.min(ds.length, maxExamples);
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let e = 0; e < n; e++) {
    const img = ds.get(e).image;
    for (let ch = 0; ch < c; ch++) {
      for (let i = ch * h * w; i < (ch + 1) * h * w; i++) {
        sum[ch] += img[i];
        sq[ch] += img[i] * img[i];
      }
    }
  }
  const count = n * h * w;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(s / count - mean[ch] ** 2, 1e-12)));
  return { mean, std };
}

/**
 * An endless, resumable sequence of batch jobs over epochs. Each epoch draws its order (when shuffling) and its
 * augmentation seed from an Rng whose state at the epoch's start is part of StreamState.
 */
export class BatchPlanner {
  readonly batchesPerEpoch: number;
  private epoch = 0;
  private batchInEpoch = 0;
  private epochStart = '';
  private nextEpochStart = '';
  private order: Int32Array = new Int32Array(0);
  private augmentSeed = 0;

  constructor(
    readonly length: number,
    readonly options: PipelineOptions,
    state?: StreamState,
  ) {
    const b = options.batchSize;
    this.batchesPerEpoch = options.dropLast ? Math.floor(length / b) : Math.ceil(length / b);
    if (this.batchesPerEpoch === 0) throw new DataError(`no batches: ${length} examples, batch size ${b}${options.dropLast ? ', last batch dropped' : ''}`);
    if (state) {
      if (!(Number.isInteger(state.batchInEpoch) && state.batchInEpoch >= 0 && state.batchInEpoch <= this.batchesPerEpoch)) {
        throw new DataError(`cannot resume at batch ${state.batchInEpoch} of an epoch of ${this.batchesPerEpoch} batches`);
      }
      this.startEpoch(state.epoch, state.rng);
      this.batchInEpoch = state.batchInEpoch;
    } else {
      this.startEpoch(0, Rng.seeded(options.seed ?? 0).state());
    }
  }

  private startEpoch(epoch: number, rngState: string): void {
    const rng = Rng.fromState(rngState);
    this.epoch = epoch;
    this.batchInEpoch = 0;
    this.epochStart = rngState;
    if (this.options.shuffle ?? true) this.order = rng.permutation(this.length);
    else this.order = Int32Array.from({ length: this.length }, (_, i) => i);
    this.augmentSeed = rng.nextU32();
    this.nextEpochStart = rng.state();
  }

  /** The state before the next job: saving it and resuming from it yields the same next batch. */
  state(): StreamState {
    return { epoch: this.epoch, batchInEpoch: this.batchInEpoch, rng: this.epochStart };
  }

  /** The next batch's job (moves to the next epoch after the last batch of one). */
  next(): BatchJob {
    if (this.batchInEpoch >= this.batchesPerEpoch) this.startEpoch(this.epoch + 1, this.nextEpochStart);
    const b = this.options.batchSize;
    const k = this.batchInEpoch;
    const indices = this.order.slice(k * b, Math.min((k + 1) * b, this.length));
    const job = { epoch: this.epoch, batchInEpoch: k, lastInEpoch: k === this.batchesPerEpoch - 1, indices, augmentSeed: this.augmentSeed };
    this.batchInEpoch++;
    return { ...job, after: this.state() };
  }
}

/** Single-thread batches: plans and makes each batch on the calling thread. */
export class BatchLoader {
  readonly planner: BatchPlanner;
  constructor(
    readonly dataset: Dataset,
    readonly options: PipelineOptions,
    state?: StreamState,
  ) {
    validatePipeline(dataset, options);
    this.planner = new BatchPlanner(dataset.length, options, state);
  }

  next(): Batch & { job: BatchJob } {
    const job = this.planner.next();
    return { ...makeBatch(this.dataset, job, this.options), job };
  }

  /** State to save after the batches taken so far. */
  state(): StreamState {
    return this.planner.state();
  }
}

/** Batches for evaluation: in order, no augmentation, every example once. */
export function* evalBatches(ds: Dataset, options: Omit<PipelineOptions, 'shuffle' | 'augment' | 'dropLast' | 'seed'>): Generator<Batch> {
  const opts: PipelineOptions = { ...options, shuffle: false };
  validatePipeline(ds, opts);
  for (let start = 0; start < ds.length; start += opts.batchSize) {
    const indices = Int32Array.from({ length: Math.min(opts.batchSize, ds.length - start) }, (_, i) => start + i);
    yield makeBatch(ds, { indices, augmentSeed: 0, batchInEpoch: 0 }, opts);
  }
}

/**
 * Test-time 10-crop of one example as a batch of 10 (4 corners, centre, and their mirrors), after `fit` and
 * before `normalize`; average the network's 10 predictions to classify the example.
 */
export function tenCropBatch(
  ds: Dataset,
  index: number,
  crop: { height: number; width: number },
  options: Pick<PipelineOptions, 'fit' | 'normalize'> = {},
): Batch {
  const e = fittedExample(ds, index, options.fit);
  const { image, shape } = e;
  const out: ImageShape = [shape[0], crop.height, crop.width];
  const size = out[0] * out[1] * out[2];
  const images = new Float32Array(10 * size);
  tenCrop(image, shape, crop.height, crop.width).forEach((c, k) => {
    if (options.normalize) normalizeInPlace(c, out, options.normalize);
    images.set(c, k * size);
  });
  return { images, labels: new Int32Array(10).fill(e.label), shape: [10, out[0], out[1], out[2]], indices: new Int32Array(10).fill(index) };
}
