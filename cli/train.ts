// `cnnc train FILE --data SPEC [options]`: compile, train with a progress bar, checkpoint each
// epoch, and print a summary. Its options are described in commands.ts (`cnnc train --help`).

import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadCheckpoint, readSafetensorsFile } from '../runtime/checkpoint.ts';
import type { Dataset } from '../runtime/data/dataset.ts';
import { subset } from '../runtime/data/dataset.ts';
import { BatchLoader, type PipelineOptions } from '../runtime/data/pipeline.ts';
import { loadData } from '../runtime/data/spec.ts';
import { startPrefetch } from '../runtime/data/worker-pool.ts';
import type { AugmentOptions } from '../runtime/data/augment.ts';
import type { OptimizerConfig, Schedule } from '../runtime/optim/optimizers.ts';
import { createSession, type Backend } from '../runtime/train/create-session.ts';
import { fit, sessionStateFrom, type BatchSource } from '../runtime/train/fit.ts';
import { formatDuration, ProgressBar } from '../runtime/train/progress.ts';
import { describeMatch, freezeUntil, matchWeights } from '../runtime/train/transfer.ts';
import { prepareCachedTraining, type CachedTraining } from '../runtime/train/trunk-cache.ts';
import { summarize } from '../compiler/summary.ts';
import { groupDigits } from '../compiler/checker/values.ts';
import { compileForRun, dataFit, parseBackend } from './model-input.ts';
import { metricTraining, runMetricTrain } from './train-metric.ts';
import { parseCommand } from './command.ts';
import { TRAIN } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError } from './io.ts';

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

function parseSchedule(value: string | undefined, totalSteps: number): Schedule {
  if (value === undefined || value === 'constant') return { kind: 'constant' };
  if (value === 'cosine') return { kind: 'cosine', totalSteps };
  const m = /^step:(\d+):(\d*\.?\d+)$/.exec(value);
  if (m) return { kind: 'step', stepSize: Number(m[1]), gamma: Number(m[2]) };
  throw new UsageError(`--schedule expects constant, step:EVERY:GAMMA or cosine, got '${value}'`);
}

function parseAugment(value: string | undefined, height: number, width: number): AugmentOptions | undefined {
  if (!value) return undefined;
  const out: { -readonly [K in keyof AugmentOptions]: AugmentOptions[K] } = {};
  for (const item of value.split(',').map((s) => s.trim())) {
    switch (item) {
      case 'mirror':
        out.mirror = true;
        break;
      case 'crop':
        out.crop = { height, width, padding: Math.max(1, Math.round(height / 8)) };
        break;
      case 'rotate':
        out.rotateDegrees = 10;
        break;
      case 'shear':
        out.shear = 0.1;
        break;
      case 'color':
        out.colorShift = 0.1;
        break;
      default:
        throw new UsageError(`--augment: unknown augmentation '${item}' (mirror, crop, rotate, shear, color)`);
    }
  }
  return out;
}

export async function runTrain(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(TRAIN, argv);
  if (positionals.length !== 1) throw new UsageError('cnnc train takes one .cnn file');
  if (!values.data) throw new UsageError('cnnc train needs --data, e.g. --data fashion-mnist');
  const compiled = compileForRun(positionals[0], values.model, values.set);
  if (!compiled) return EXIT_ERRORS;
  // Triplet and Siamese pair models train from identities (P x K batches, mined triplets).
  let graph = values['freeze-until'] ? freezeUntil(compiled, values['freeze-until']) : compiled;
  const metric = metricTraining(graph);
  if (metric) return runMetricTrain(graph, metric, positionals[0], values);
  const epochs = positiveInt(values.epochs, '--epochs', 5);
  const batch = positiveInt(values.batch, '--batch', 64);
  const seed = nonNegative(values.seed, '--seed', 0);
  const backend: Backend = parseBackend(values.backend);
  const kind = values.optimizer ?? 'momentum';
  if (!['sgd', 'momentum', 'rmsprop', 'adam'].includes(kind)) throw new UsageError(`--optimizer expects sgd, momentum, rmsprop or adam, got '${kind}'`);
  if (values.resume && !existsSync(values.resume)) throw new UsageError(`--resume: no checkpoint at ${values.resume}`);

  const data = loadData(values.data);
  let train: Dataset = data.train;
  if (values.limit) train = subset(train, 0, Math.min(train.length, positiveInt(values.limit, '--limit', train.length)));
  let fitted = dataFit(graph, train);
  const augment = parseAugment(values.augment, fitted.height, fitted.width);
  let test = data.test;
  let cached: CachedTraining | undefined;
  if (values['cache-trunk']) {
    if (!values['freeze-until']) throw new UsageError('--cache-trunk needs --freeze-until LAYER: the trunk to cache ends at LAYER');
    if (augment) throw new UsageError('--cache-trunk: augmented images differ every epoch, so their activations cannot be cached; drop --augment');
    const fit = fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {};
    const log = (line: string) => process.stderr.write(`${line}\n`);
    cached = await prepareCachedTraining(graph, { dir: values['cache-trunk'], freezeUntil: values['freeze-until'], weightsFile: values.weights, dataSpec: values.data, train, test, pipeline: fit, batch, backend, seed, log });
    ({ head: graph, train, test } = cached);
    fitted = { ...fitted, needsFit: false };
  }
  const pipeline: PipelineOptions = { batchSize: batch, seed, dropLast: true, ...(fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {}), ...(augment ? { augment } : {}) };
  const stepsPerEpoch = Math.floor(train.length / batch);
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
  log(`data: ${data.description}${values.limit ? `, first ${train.length} for training` : ''}${fitted.needsFit ? `; images fitted to ${fitted.height}x${fitted.width}` : ''}`);
  log(`optimizer: ${optimizer.kind}, lr ${optimizer.lr}, batch ${batch}, ${epochs} epoch(s) of ${stepsPerEpoch} steps`);

  if (values.weights) {
    const file = readSafetensorsFile(values.weights).tensors;
    const match = matchWeights(file, session.shapes, new Set((await session.saveState()).optimizer.keys()));
    await session.loadState(match.state);
    for (const line of describeMatch(match, session.shapes.keys())) log(`weights ${values.weights}: ${line}`);
  }
  let position;
  let step = 0;
  if (values.resume) {
    const ckpt = loadCheckpoint(values.resume);
    await session.loadState(sessionStateFrom(ckpt.weights, ckpt.optimizer, values.resume));
    const { epoch, batchInEpoch, rng } = ckpt.position;
    position = { epoch, batchInEpoch, rng };
    step = ckpt.position.step;
  }

  const out = values.out ?? join('out', `${graph.name}.safetensors`);
  mkdirSync(dirname(out), { recursive: true });
  const workers = values.workers === undefined ? (augment ? 1 : 0) : nonNegative(values.workers, '--workers', 0);
  let closeLoader = async () => undefined as void;
  let loader: BatchSource;
  if (workers > 0) {
    const prefetch = startPrefetch(train, pipeline, workers, position);
    loader = prefetch.loader;
    closeLoader = prefetch.close;
  } else {
    loader = new BatchLoader(train, pipeline, position);
  }
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
      step,
      checkpoint: out,
      ...(test ? { test: { dataset: test, pipeline: fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {} } } : {}),
      onProgress: (p) => bar.update(p),
      onEpoch: (e) =>
        bar.finishEpoch(
          `epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}${e.accuracy === undefined ? '' : `, accuracy ${(e.accuracy * 100).toFixed(1)}%`}` +
            (e.testAccuracy === undefined ? '' : ` | test loss ${e.testLoss!.toFixed(4)}, accuracy ${(e.testAccuracy * 100).toFixed(2)}%`) +
            ` | ${formatDuration(e.seconds)}, ${Math.round(e.imagesPerSecond)} img/s`,
        ),
      shouldStop: () => stopRequested,
      info: { model: graph.name, file: basename(positionals[0]), optimizer: optimizer.kind, lr: optimizer.lr, batch, seed },
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
        ...(last?.accuracy === undefined ? [] : [`final training loss ${last.loss.toFixed(4)}, accuracy ${(last.accuracy * 100).toFixed(2)}%`]),
        ...(last?.testAccuracy === undefined ? [] : [`test accuracy ${(last.testAccuracy * 100).toFixed(2)}% (loss ${last.testLoss!.toFixed(4)})`]),
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
