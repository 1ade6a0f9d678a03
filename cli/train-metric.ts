// `cnnc train` on a metric-learning model (a triplet loss, or a Siamese pair model with
// binary_cross_entropy): batches of P identities x K images from class folders, triplets mined
// online (runtime/faces/metric-training.ts). The progress line shows the fraction of active
// triplets (positive loss before the step).

import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { groupDigits } from '../compiler/checker/values.ts';
import { loadCheckpoint } from '../runtime/checkpoint.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import type { LoadedData } from '../runtime/data/spec.ts';
import { trainMetric, type MetricKind, type MetricTrainingOptions } from '../runtime/faces/metric-training.ts';
import { toFloat32 } from '../runtime/tensor.ts';
import { MINING_STRATEGIES } from '../runtime/faces/mining.ts';
import type { OptimizerConfig } from '../compiler/optim/optimizers.ts';
import { pickExecutor } from '../runtime/train/create-session.ts';
import { formatDuration } from '../runtime/train/progress.ts';
import type { TRAIN } from './commands.ts';
import type { parseCommand } from './command.ts';
import { parsePositiveInt, stratifiedLimit } from './encoder-input.ts';
import { EXIT_OK, UsageError } from './io.ts';
import { parseBackend } from './model-input.ts';

type TrainValues = ReturnType<typeof parseCommand<(typeof TRAIN)['options']>>['values'];

function number(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0)) throw new UsageError(`${flag} expects a non-negative number, got '${value}'`);
  return n;
}

export async function runMetricTrain(graph: ModelGraph, kind: MetricKind, file: string, values: TrainValues, loaded: LoadedData): Promise<number> {
  for (const flag of ['augment', 'cache-trunk', 'weights', 'schedule', 'workers', 'feed', 'val'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is not supported when training ${kind.kind === 'triplet' ? 'with mined triplets' : 'on pairs'}`);
  }
  if (!values.data) throw new UsageError('cnnc train needs --data, e.g. --data folder:faces@96x96x3 (one sub-folder per identity)');
  const epochs = values.epochs === undefined ? 5 : Number(values.epochs); // a whole number >= 1 (checked by the parser)
  const p = parsePositiveInt(values.identities, '--identities', 8);
  const k = parsePositiveInt(values['per-identity'], '--per-identity', 4);
  const mining = MINING_STRATEGIES.find((m) => m === (values.mining ?? 'semi-hard'));
  if (!mining) throw new UsageError(`--mining expects ${MINING_STRATEGIES.join(', ')}, got '${values.mining}'`);
  const kindName = values.optimizer ?? 'adam';
  if (!['sgd', 'momentum', 'rmsprop', 'adam'].includes(kindName)) throw new UsageError(`--optimizer expects sgd, momentum, rmsprop or adam, got '${kindName}'`);
  const optimizer: OptimizerConfig = {
    kind: kindName as OptimizerConfig['kind'],
    lr: number(values.lr, '--lr', 0.001),
    momentum: number(values.momentum, '--momentum', 0.9),
    weightDecay: number(values['weight-decay'], '--weight-decay', 0),
  };
  const seed = number(values.seed, '--seed', 0);
  let data = loaded.train;
  if (values.limit) data = stratifiedLimit(data, parsePositiveInt(values.limit, '--limit', data.length), seed);
  const out = values.out ?? join('out', `${graph.name}.safetensors`);
  let resume: MetricTrainingOptions['resume'];
  if (values.resume) {
    const ckpt = loadCheckpoint(values.resume);
    const tensors = new Map<string, Float32Array>();
    for (const [name, t] of [...ckpt.weights, ...ckpt.optimizer]) tensors.set(name, toFloat32(t));
    resume = { tensors, epoch: ckpt.position.epoch, step: ckpt.position.step, rng: ckpt.position.rng };
    process.stderr.write(`resuming from ${values.resume} after epoch ${resume.epoch} (step ${resume.step})\n`);
  }
  const { executor, device, note, close } = await pickExecutor(parseBackend(values.backend));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const what = kind.kind === 'triplet' ? `${p} identities x ${k} images per batch, ${mining} triplets, margin ${kind.margin}` : `${p * k} pairs per batch, half of one identity`;
  log(`cnnc train: ${graph.name} (${file}) on ${device}${note ? ` (${note})` : ''}`);
  log(`data: ${loaded.description}${values.limit ? `; a stratified sample of ${groupDigits(data.length)} (seed ${seed})` : ''}; ${what}; ${optimizer.kind}, lr ${optimizer.lr}, ${epochs} epoch(s)`);
  mkdirSync(dirname(out), { recursive: true });
  const started = performance.now();
  let lastTenth = -1;
  try {
    await trainMetric(graph, data, executor, {
      identities: p,
      perIdentity: k,
      mining,
      epochs,
      optimizer,
      seed,
      checkpoint: out,
      ...(resume ? { resume } : {}),
      info: { model: graph.name, file: basename(file), optimizer: optimizer.kind, lr: optimizer.lr, identities: p, perIdentity: k, mining, seed },
      onStep: (s) => {
        // One line per tenth of an epoch (a log-friendly progress line).
        const tenth = Math.floor((s.step / s.steps) * 10);
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        const elapsed = (performance.now() - started) / 1000;
        log(`epoch ${s.epoch}/${epochs}  ${s.step}/${s.steps}  loss ${s.loss.toFixed(4)}${s.active === undefined ? '' : `  active triplets ${(s.active * 100).toFixed(1)}%`}  ${formatDuration(elapsed)}`);
      },
      onEpoch: (e) => {
        lastTenth = -1;
        log(`epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}${e.active === undefined ? '' : `, active triplets ${(e.active * 100).toFixed(1)}%`} | ${formatDuration(e.seconds)}`);
      },
    });
    process.stdout.write(`trained ${graph.name} for ${epochs} epoch(s) in ${formatDuration((performance.now() - started) / 1000)} on ${device}\ncheckpoint: ${out}\n`);
    return EXIT_OK;
  } finally {
    close();
  }
}
