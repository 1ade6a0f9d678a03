// `cnnc train FILE --data SPEC [options]`: compile, train with a progress bar, checkpoint each
// epoch, and print a summary. Its options are described in commands.ts (`cnnc train --help`).

import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkResumable, loadCheckpoint, readWeightsFile } from '../runtime/checkpoint.ts';
import { PickedDataset, type Dataset } from '../runtime/data/dataset.ts';
import { labelsOf } from '../runtime/data/labels.ts';
import { stratifiedSample, stratifiedSplit } from '../runtime/data/stratify.ts';
import type { PipelineOptions, StreamState } from '../runtime/data/pipeline.ts';
import type { LoadedData } from '../runtime/data/spec.ts';
import { loadFeedData, type FeedData } from '../runtime/data/feed-data.ts';
import { imageBatchSource, imageRecords } from '../runtime/data/image-records.ts';
import { pickRecords, RecordLoader, type Fields, type RecordBatchSource, type Records } from '../runtime/data/records.ts';
import { startPrefetch } from '../runtime/data/worker-pool.ts';
import type { OptimizerConfig, Schedule } from '../compiler/optim/optimizers.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { bindFeeds, describeBindings, parseFeedOverrides } from '../runtime/train/bind-feeds.ts';
import { checkTrainable, createSession, type Backend } from '../runtime/train/create-session.ts';
import { fit, sessionStateFrom } from '../runtime/train/fit.ts';
import { describeMeasured, formatDuration, ProgressBar } from '../runtime/train/progress.ts';
import { describeMatch, freezeUntil, matchWeights } from '../runtime/train/transfer.ts';
import { prepareCachedTraining, type CachedTraining } from '../runtime/train/trunk-cache.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { summarize } from '../compiler/summary.ts';
import { groupDigits } from '../compiler/checker/values.ts';
import { compileForRun, dataFit, parseBackend } from './model-input.ts';
import { describeAugmentation, parseAugmentation, type AugmentFlagValues } from './augment-options.ts';
import { metricKind } from '../runtime/faces/metric-training.ts';
import { runMetricTrain } from './train-metric.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { TRAIN } from './commands.ts';
import { checkWritable, EXIT_ERRORS, EXIT_OK, UsageError } from './io.ts';

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive whole number, got '${value}'`);
  return n;
}

function nonNegative(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} expects a non-negative number, got '${value}'`);
  return n;
}

function fraction(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new UsageError(`${flag} expects a fraction between 0 and 1 (e.g. 0.2), got '${value}'`);
  return n;
}

function parseSchedule(value: string | undefined, totalSteps: number): Schedule {
  if (value === undefined || value === 'constant') return { kind: 'constant' };
  if (value === 'cosine') return { kind: 'cosine', totalSteps };
  const m = /^step:(\d+):(\d*\.?\d+)$/.exec(value);
  if (m) return { kind: 'step', stepSize: Number(m[1]), gamma: Number(m[2]) };
  throw new UsageError(`--schedule expects constant, step:EVERY:GAMMA or cosine, got '${value}'`);
}

/** The training data as the loop sees it: fields, a loader that can start at a saved position, held-out records. */
interface TrainingData {
  readonly fields: Fields;
  readonly length: number;
  readonly test?: Records;
  readonly classNames?: readonly string[];
  readonly categoryIds?: readonly number[];
  /** One line for the log. */
  readonly description: string;
  /** The augmentation in force, for the log. */
  readonly augmentation?: string;
  /** The file (or spec) errors name. */
  readonly source: string;
  open(position: StreamState | undefined): { loader: RecordBatchSource; close: () => Promise<void> };
}

interface DataOptions {
  readonly spec: string;
  readonly batch: number;
  readonly seed: number;
  readonly limit?: number;
  /** Hold out this fraction of each class for validation. */
  readonly val?: number;
  readonly augment?: AugmentFlagValues;
  readonly workers?: string;
  readonly freezeUntil?: string;
  readonly cacheTrunk?: string;
  readonly weights?: string;
  readonly backend: Backend;
}

/** Image classification data through the image pipeline (fit, augmentation, workers, a cached trunk). */
async function imageTrainingData(graph: ModelGraph, data: LoadedData, source: string, o: DataOptions): Promise<{ data: TrainingData; graph: ModelGraph; cached?: CachedTraining }> {
  let train: Dataset = data.train;
  let test = data.test;
  const notes: string[] = [];
  if (o.limit !== undefined && o.limit < train.length) {
    const labels = labelsOf(train);
    train = new PickedDataset(train, stratifiedSample((i) => labels[i]!, train.length, o.limit, o.seed));
    notes.push(`a stratified sample of ${train.length} (seed ${o.seed})`);
  }
  if (o.val !== undefined) {
    const labels = labelsOf(train);
    const split = stratifiedSplit((i) => labels[i]!, train.length, o.val, o.seed);
    test = new PickedDataset(train, split.val);
    train = new PickedDataset(train, split.train);
    notes.push(`${train.length} for training, ${test.length} held out for validation (stratified, seed ${o.seed})`);
  }
  let fitted = dataFit(graph, train);
  const augment = o.augment ? parseAugmentation(o.augment, train) : undefined;
  let cached: CachedTraining | undefined;
  let head = graph;
  if (o.cacheTrunk) {
    if (!o.freezeUntil) throw new UsageError('--cache-trunk needs --freeze-until LAYER: the trunk to cache ends at LAYER');
    if (augment) throw new UsageError('--cache-trunk: augmented images differ every epoch, so their activations cannot be cached; drop --augment');
    const fit = fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {};
    const log = (line: string) => process.stderr.write(`${line}\n`);
    cached = await prepareCachedTraining(graph, { dir: o.cacheTrunk, freezeUntil: o.freezeUntil, weightsFile: o.weights, dataSpec: o.spec, train, test, pipeline: fit, batch: o.batch, backend: o.backend, seed: o.seed, log });
    ({ head, train, test } = cached);
    fitted = { ...fitted, needsFit: false };
  }
  const fit = fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {};
  const pipeline: PipelineOptions = { batchSize: o.batch, seed: o.seed, dropLast: true, ...fit, ...(augment ? { augment } : {}) };
  const records = imageRecords(train, { ...fit, ...(augment ? { augment } : {}) });
  const workers = o.workers === undefined ? (augment ? 1 : 0) : nonNegative(o.workers, '--workers', 0);
  const trainSet = train;
  return {
    graph: head,
    ...(cached ? { cached } : {}),
    data: {
      fields: records.fields,
      length: train.length,
      ...(test ? { test: imageRecords(test, fit) } : {}),
      ...(train.classNames ? { classNames: train.classNames } : {}),
      augmentation: describeAugmentation(augment),
      description: `${data.description}${notes.map((n) => `; ${n}`).join('')}${fitted.needsFit ? `; images fitted to ${fitted.height}x${fitted.width}` : ''}`,
      source,
      open(position) {
        if (workers > 0) {
          const prefetch = startPrefetch(trainSet, pipeline, workers, position);
          return { loader: imageBatchSource(prefetch.loader), close: prefetch.close };
        }
        return { loader: new RecordLoader(records, pipeline, position), close: async () => undefined };
      },
    },
  };
}

/** Records of named tensors, bound to the model as they are. */
function recordTrainingData(loaded: Extract<FeedData, { kind: 'records' }>, o: DataOptions): TrainingData {
  if (o.augment) throw new UsageError('--augment applies to image data (folders, IDX, images/labels safetensors); these are records of named tensors');
  if (o.cacheTrunk) throw new UsageError('--cache-trunk applies to image data (folders, IDX, images/labels safetensors)');
  let train = loaded.train;
  let test = loaded.test;
  const notes: string[] = [];
  const classOf = (r: Records) => (r.classOf ? (i: number) => r.classOf!(i) : undefined);
  if (o.limit !== undefined && o.limit < train.length) {
    train = pickRecords(train, stratifiedSample(classOf(train), train.length, o.limit, o.seed));
    notes.push(`a ${train.classOf ? 'stratified ' : ''}sample of ${train.length} (seed ${o.seed})`);
  }
  if (o.val !== undefined) {
    const split = stratifiedSplit(classOf(train), train.length, o.val, o.seed);
    test = pickRecords(train, split.val);
    train = pickRecords(train, split.train);
    notes.push(`${train.length} for training, ${test.length} held out for validation (${train.classOf ? 'stratified, ' : ''}seed ${o.seed})`);
  }
  const pipeline = { batchSize: o.batch, seed: o.seed, dropLast: true };
  return {
    fields: train.fields,
    length: train.length,
    ...(test ? { test } : {}),
    ...(train.classNames ? { classNames: train.classNames } : {}),
    ...(train.categoryIds ? { categoryIds: train.categoryIds } : {}),
    description: `${loaded.description}${notes.map((n) => `; ${n}`).join('')}`,
    source: loaded.source,
    open: (position) => ({ loader: new RecordLoader(train, pipeline, position), close: async () => undefined }),
  };
}

export async function runTrain(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(TRAIN, argv);
  expectOneFile(TRAIN, positionals);
  if (!values.data) throw new UsageError('cnnc train needs --data, e.g. --data fashion-mnist');
  const compiled = compileForRun(positionals[0], values.model, values.set);
  if (!compiled) return EXIT_ERRORS;
  let graph = values['freeze-until'] ? freezeUntil(compiled, values['freeze-until']) : compiled;
  // Triplet and Siamese pair models on identity-labelled images: P x K batches, mined triplets.
  const metric = metricKind(graph);
  const loaded = loadFeedData(values.data, graph);
  if (metric && loaded.kind === 'images') return runMetricTrain(graph, metric, positionals[0], values, loaded.data);
  const epochs = positiveInt(values.epochs, '--epochs', 5);
  const batch = positiveInt(values.batch, '--batch', 64);
  const seed = nonNegative(values.seed, '--seed', 0);
  const backend: Backend = parseBackend(values.backend);
  const kind = values.optimizer ?? 'momentum';
  if (!['sgd', 'momentum', 'rmsprop', 'adam'].includes(kind)) throw new UsageError(`--optimizer expects sgd, momentum, rmsprop or adam, got '${kind}'`);
  if (values.resume && !existsSync(values.resume)) throw new UsageError(`--resume: no checkpoint at ${values.resume}`);
  const overrides = parseFeedOverrides(values.feed);

  checkTrainable(graph);

  const dataOptions: DataOptions = {
    spec: values.data,
    batch,
    seed,
    ...(values.limit !== undefined ? { limit: positiveInt(values.limit, '--limit', 1) } : {}),
    ...(values.val !== undefined ? { val: fraction(values.val, '--val') } : {}),
    ...(values.augment !== undefined ? { augment: values } : {}),
    ...(values.workers !== undefined ? { workers: values.workers } : {}),
    ...(values['freeze-until'] !== undefined ? { freezeUntil: values['freeze-until'] } : {}),
    ...(values['cache-trunk'] !== undefined ? { cacheTrunk: values['cache-trunk'] } : {}),
    ...(values.weights !== undefined ? { weights: values.weights } : {}),
    backend,
  };
  let data: TrainingData;
  let cached: CachedTraining | undefined;
  if (loaded.kind === 'images') {
    const prepared = await imageTrainingData(graph, loaded.data, loaded.source, dataOptions);
    ({ data, graph, cached } = prepared);
  } else {
    data = recordTrainingData(loaded, dataOptions);
  }
  // Every feed is bound and checked before anything is compiled or written.
  const bindings = bindFeeds(graph, data.fields, overrides, data.source);
  const stepsPerEpoch = Math.floor(data.length / batch);
  if (stepsPerEpoch === 0) throw new UsageError(`--batch ${batch} is larger than the training data (${data.length} examples)`);
  const optimizer: OptimizerConfig = {
    kind: kind as OptimizerConfig['kind'],
    lr: nonNegative(values.lr, '--lr', 0.01),
    momentum: nonNegative(values.momentum, '--momentum', 0.9),
    weightDecay: nonNegative(values['weight-decay'], '--weight-decay', 0),
    schedule: parseSchedule(values.schedule, epochs * stepsPerEpoch),
  };

  const summary = summarize(graph);
  const opened = await createSession(graph, { batch, optimizer, backend, seed });
  const session = cached ? cached.attach(opened) : opened;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`cnnc train: ${graph.name} (${positionals[0]}): ${groupDigits(summary.totals.params)} parameters (${groupDigits(summary.totals.trainable)} trainable), ${groupDigits(summary.totals.macs)} MACs per example`);
  log(`device: ${session.device}${session.deviceNote ? ` (${session.deviceNote})` : ''}`);
  log(`data: ${data.description}`);
  log(`feeds: ${describeBindings(bindings)}`);
  log(`augmentation: ${data.augmentation ?? 'none'}`);
  log(`optimizer: ${optimizer.kind}, lr ${optimizer.lr}, batch ${batch}, ${epochs} epoch(s) of ${stepsPerEpoch} steps`);

  if (values.weights) {
    const loaded = await readWeightsFor(graph, values.weights);
    log(loaded.note);
    const match = matchWeights(loaded.tensors, session.shapes, new Set((await session.saveState()).optimizer.keys()));
    await session.loadState(match.state);
    for (const line of describeMatch(match, session.shapes.keys())) log(`weights ${values.weights}: ${line}`);
  }
  let position: StreamState | undefined;
  let step = 0;
  if (values.resume) {
    const ckpt = loadCheckpoint(values.resume);
    checkResumable(ckpt, session.shapes, values.resume, graph.name);
    await session.loadState(sessionStateFrom(ckpt.weights, ckpt.optimizer, values.resume));
    const { epoch, batchInEpoch, rng } = ckpt.position;
    position = { epoch, batchInEpoch, rng };
    step = ckpt.position.step;
  }

  const out = values.out ?? join('out', `${graph.name}.safetensors`);
  checkWritable(out, '--out');
  mkdirSync(dirname(out), { recursive: true });
  const { loader, close: closeLoader } = data.open(position);
  if (position) {
    const atEnd = position.batchInEpoch >= loader.planner.batchesPerEpoch;
    const where = atEnd ? `the start of epoch ${position.epoch + 2}` : `epoch ${position.epoch + 1}, batch ${position.batchInEpoch + 1}`;
    log(`resuming from ${values.resume} at ${where} (step ${step})`);
  }

  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    log('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const bar = new ProgressBar();
  const started = performance.now();
  try {
    const outcome = await fit(session, loader, {
      epochs,
      bindings,
      step,
      checkpoint: out,
      ...(values['save-every'] ? { saveEvery: Number(values['save-every']) } : {}),
      ...(data.test ? { test: data.test } : {}),
      onProgress: (p) => bar.update(p),
      onEpoch: (e) =>
        bar.finishEpoch(
          `epoch ${e.epoch}/${epochs}: ${describeMeasured(session, e)}` +
            (e.test ? ` | test ${describeMeasured(session, e.test)}` : '') +
            ` | ${formatDuration(e.seconds)}, ${Math.round(e.examplesPerSecond)} img/s`,
        ),
      shouldStop: () => stopRequested,
      info: { model: graph.name, file: basename(positionals[0]), optimizer: optimizer.kind, lr: optimizer.lr, batch, seed, ...(data.classNames ? { class_names: [...data.classNames] } : {}), ...(data.categoryIds ? { category_ids: [...data.categoryIds] } : {}) },
    });
    const seconds = (performance.now() - started) / 1000;
    if (outcome.kind === 'diverged') {
      log(`cnnc train: ${outcome.message}`);
      return EXIT_ERRORS;
    }
    if (outcome.kind === 'interrupted') {
      log(`stopped at step ${outcome.step}; checkpoint ${out}. Continue with --resume ${out}`);
      return 130;
    }
    const last = outcome.epochs.at(-1);
    process.stdout.write(
      [
        `trained ${graph.name} for ${outcome.epochs.length} epoch(s), ${outcome.step} steps, in ${formatDuration(seconds)} on ${session.device}`,
        ...(last ? [`final training ${describeMeasured(session, last)}`] : []),
        ...(last?.test ? [`test ${describeMeasured(session, last.test)}`] : []),
        `checkpoint: ${out}`,
        '',
      ].join('\n'),
    );
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
    await closeLoader();
    session.dispose();
  }
}
