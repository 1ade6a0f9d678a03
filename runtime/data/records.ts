// Named feeds: a data set whose examples are records of named tensors of any rank (a class label,
// a target vector, a signal, an image, a volume, encoded boxes), and the batches made from them.
// Model inputs and loss targets bind to these fields by name (runtime/train/bind-feeds.ts).
//
// A batch depends only on its BatchJob (which examples, the epoch's seed, its place in the epoch),
// so anything random per example (augmentation, the partner of a pair) is reproducible and a
// resumed run continues with exactly the batches an uninterrupted one would have seen.

import { DataError } from './dataset.ts';
import { BatchPlanner, type BatchJob, type PipelineOptions, type StreamState } from './pipeline.ts';
import { Rng } from './random.ts';

export interface FieldSpec {
  /** Per-example shape without the batch axis, in PyTorch layout ([C, H, W], [C, L], [F], [] for a label). */
  readonly shape: readonly number[];
  /** 'i32' fields hold class indices (exact integers, carried as f32 in batches). */
  readonly dtype: 'f32' | 'i32';
  /** Number of classes of an 'i32' field: its values lie in 0..classes-1. */
  readonly classes?: number;
}

export type Fields = ReadonlyMap<string, FieldSpec>;

/** One example: a value for every field, each a fresh array the caller may keep. */
export type RecordExample = Map<string, Float32Array>;

export interface Records {
  readonly length: number;
  readonly fields: Fields;
  /** Names of the classes of the label field, where the source has them (image folders). */
  readonly classNames?: readonly string[];
  /** COCO category id of each class, where the source numbers them (COCO annotations). */
  readonly categoryIds?: readonly number[];
  /** Class of example i, for stratified splits and samples; absent when the data has no classes. */
  classOf?(i: number): number;
  /** Example i. `rng` is seeded by the example's place in its batch: augmentation and sampling draw from it. */
  get(i: number, rng: Rng): RecordExample;
}

/** Stacked examples: one [count, ...shape] array per field. */
export interface FieldBatch {
  readonly fields: ReadonlyMap<string, Float32Array>;
  readonly count: number;
  /** Example indices in the records. */
  readonly indices: Int32Array;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Stacks examples `indices`; example j draws from `rngFor(j)`. */
function stack(records: Records, indices: Int32Array, rngFor: (j: number) => Rng): FieldBatch {
  const count = indices.length;
  const fields = new Map<string, Float32Array>();
  for (const [name, spec] of records.fields) fields.set(name, new Float32Array(count * elementCount(spec.shape)));
  for (let j = 0; j < count; j++) {
    const example = records.get(indices[j]!, rngFor(j));
    for (const [name, spec] of records.fields) {
      const size = elementCount(spec.shape);
      const value = example.get(name);
      if (!value || value.length !== size) throw new DataError(`example ${indices[j]}: field '${name}' has ${value?.length ?? 0} values, expected ${size}`);
      fields.get(name)!.set(value, j * size);
    }
  }
  return { fields, count, indices };
}

/** Makes the batch a job describes; the same job gives the same values on any thread. */
export function makeRecordBatch(records: Records, job: Pick<BatchJob, 'indices' | 'augmentSeed' | 'batchInEpoch'>): FieldBatch {
  // One generator per example, keyed by its place in the epoch (as the image pipeline's makeBatch).
  return stack(records, job.indices, (j) => Rng.seeded(job.augmentSeed, job.batchInEpoch, j));
}

/** Where the training loop takes its batches from: a RecordLoader, or an image pipeline's loader seen as records. */
export interface RecordBatchSource {
  next(): (FieldBatch & { job: BatchJob }) | Promise<FieldBatch & { job: BatchJob }>;
  state(): StreamState;
  readonly planner: { readonly batchesPerEpoch: number };
}

/** Seeded, shuffled, resumable batches of records on the calling thread. */
export class RecordLoader implements RecordBatchSource {
  readonly planner: BatchPlanner;
  constructor(
    readonly records: Records,
    options: Pick<PipelineOptions, 'batchSize' | 'seed' | 'shuffle' | 'dropLast'>,
    state?: StreamState,
  ) {
    if (records.length === 0) throw new DataError('the data set is empty');
    if (options.dropLast && records.length < options.batchSize) {
      throw new DataError(`batch size ${options.batchSize} is larger than the data set (${records.length} examples) and the last batch is dropped: no batches`);
    }
    this.planner = new BatchPlanner(records.length, options, state);
  }

  next(): FieldBatch & { job: BatchJob } {
    const job = this.planner.next();
    return { ...makeRecordBatch(this.records, job), job };
  }

  state(): StreamState {
    return this.planner.state();
  }
}

/** The seed of evaluation's per-example generators: sampled partners depend on the example only, not on the batch size. */
const EVAL_SEED = 0x5eed;

/** Every example once, in order, for evaluation; the last batch may be shorter. */
export function* evalRecordBatches(records: Records, batchSize: number): Generator<FieldBatch> {
  for (let start = 0; start < records.length; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, records.length - start) }, (_, i) => start + i);
    yield stack(records, indices, (j) => Rng.seeded(EVAL_SEED, indices[j]!));
  }
}

/** Examples `indices` of other records (a view): stratified samples and splits. */
export function pickRecords(base: Records, indices: Int32Array): Records {
  for (const i of indices) if (!(i >= 0 && i < base.length)) throw new RangeError(`example index ${i} is outside 0..${base.length - 1}`);
  return {
    length: indices.length,
    fields: base.fields,
    ...(base.classNames ? { classNames: base.classNames } : {}),
    ...(base.categoryIds ? { categoryIds: base.categoryIds } : {}),
    ...(base.classOf ? { classOf: (i: number) => base.classOf!(indices[i]) } : {}),
    get: (i, rng) => base.get(indices[i], rng),
  };
}
