// An image classification data set (Dataset: image + label) seen as records with two fields,
// `images` ([C, H, W] after fit and augmentation) and `labels` (a class index): today's
// images/labels convention as one case of named feeds. Batches equal the image pipeline's
// (makeBatch) for the same job, so the worker pool's batches can stand in for them.

import type { Dataset } from './dataset.ts';
import { exampleShape, prepareExample, validatePipeline, type Batch, type BatchJob, type PipelineOptions } from './pipeline.ts';
import type { FieldBatch, RecordBatchSource, Records } from './records.ts';
import type { Rng } from './random.ts';
import { labelsOf } from './labels.ts';

export const IMAGE_FIELD = 'images';
export const LABEL_FIELD = 'labels';

export function imageRecords(ds: Dataset, options: Omit<PipelineOptions, 'batchSize' | 'shuffle' | 'seed' | 'dropLast'>): Records {
  validatePipeline(ds, { ...options, batchSize: 1 });
  const shape = exampleShape(ds, { ...options, batchSize: 1 });
  let labels: Int32Array | undefined;
  return {
    length: ds.length,
    fields: new Map([
      [IMAGE_FIELD, { shape, dtype: 'f32' as const }],
      [LABEL_FIELD, { shape: [], dtype: 'i32' as const, classes: ds.classes }],
    ]),
    ...(ds.classNames ? { classNames: ds.classNames } : {}),
    classOf: (i) => (labels ??= labelsOf(ds))[i],
    get(i: number, rng: Rng) {
      const e = prepareExample(ds, i, { ...options, batchSize: 1 }, rng);
      return new Map([
        [IMAGE_FIELD, e.image],
        [LABEL_FIELD, new Float32Array([e.label])],
      ]);
    },
  };
}

/** An image batch as a field batch. */
export function imageFieldBatch(batch: Batch): FieldBatch {
  return {
    fields: new Map([
      [IMAGE_FIELD, batch.images],
      [LABEL_FIELD, Float32Array.from(batch.labels)],
    ]),
    count: batch.labels.length,
    indices: batch.indices,
  };
}

/** The image pipeline's loaders (BatchLoader, PrefetchLoader) as a source of field batches. */
export function imageBatchSource(loader: {
  next(): (Batch & { job: BatchJob }) | Promise<Batch & { job: BatchJob }>;
  state: RecordBatchSource['state'];
  readonly planner: { readonly batchesPerEpoch: number };
}): RecordBatchSource {
  return {
    planner: loader.planner,
    state: () => loader.state(),
    async next() {
      const b = await loader.next();
      return { ...imageFieldBatch(b), job: b.job };
    },
  };
}
