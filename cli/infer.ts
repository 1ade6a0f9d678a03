// `cnnc eval` and `cnnc predict`: inference-mode runs of trained weights, with the course's
// test-time tricks: 10-crop (four corners and the centre, and their mirrors) and ensembles of
// several checkpoints, whose class probabilities are averaged.

import { readFileSync } from 'node:fs';
import { groupDigits } from '../compiler/checker/values.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { readSafetensorsFile } from '../runtime/checkpoint.ts';
import { subset, type Dataset } from '../runtime/data/dataset.ts';
import { decodeImage, imageForModel } from '../runtime/data/image.ts';
import { evalBatches, tenCropBatch } from '../runtime/data/pipeline.ts';
import { FASHION_CLASSES, loadData } from '../runtime/data/spec.ts';
import { createSession } from '../runtime/train/create-session.ts';
import type { TrainingSession } from '../runtime/train/session.ts';
import { argmax } from '../runtime/train/argmax.ts';
import { matchWeights } from '../runtime/train/transfer.ts';
import { parseCommand } from './command.ts';
import { EVAL, PREDICT } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError } from './io.ts';
import { compileForRun, dataFit, parseBackend } from './model-input.ts';
import { isEncoderModel, runEncoderEval } from './eval-encoder.ts';

/** One session per weights file (an ensemble when there are several), all loaded strictly. */
async function openEnsemble(graph: ModelGraph, files: readonly string[], batch: number, backend: string | undefined): Promise<TrainingSession[]> {
  if (files.length === 0) throw new UsageError('give trained weights with --weights FILE (repeat it for an ensemble)');
  const sessions: TrainingSession[] = [];
  for (const file of files) {
    const session = await createSession(graph, { batch, backend: parseBackend(backend), seed: 0 });
    sessions.push(session);
    const optimizerNames = new Set((await session.saveState()).optimizer.keys());
    const match = matchWeights(readSafetensorsFile(file).tensors, session.shapes, optimizerNames);
    const problems = [...match.missing.map((n) => `missing ${n}`), ...match.reshaped.map((r) => `${r.name} is [${r.file.join(', ')}], the model expects [${r.model.join(', ')}]`)];
    if (problems.length > 0) {
      sessions.forEach((s) => s.dispose());
      throw new UsageError(`${file} does not fit model ${graph.name}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
    }
    await session.loadState(match.state);
  }
  return sessions;
}

/** Mean class probabilities of `count` images over every session of the ensemble. */
async function ensembleProbabilities(sessions: readonly TrainingSession[], images: Float32Array, labels: Int32Array, count: number): Promise<Float32Array> {
  let sum: Float32Array | undefined;
  for (const s of sessions) {
    const { probabilities } = await s.evaluate(images, labels, count);
    if (!sum) sum = Float32Array.from(probabilities);
    else for (let i = 0; i < sum.length; i++) sum[i] += probabilities[i];
  }
  return sum!.map((v) => v / sessions.length);
}

/** Averages each group of 10 crop rows into one row. */
function averageCrops(probabilities: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(classes);
  for (let k = 0; k < 10; k++) for (let c = 0; c < classes; c++) out[c] += probabilities[k * classes + c] / 10;
  return out;
}

/** 10-crop reads crops of the model's size from images fitted an eighth larger. */
function cropSource(height: number, width: number): { height: number; width: number } {
  return { height: height + Math.max(2, Math.round(height / 8)), width: width + Math.max(2, Math.round(width / 8)) };
}

export async function runEval(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(EVAL, argv);
  if (positionals.length !== 1) throw new UsageError('cnnc eval takes one .cnn file');
  if (!values.data) throw new UsageError('cnnc eval needs --data');
  const graph = compileForRun(positionals[0], values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  if (isEncoderModel(graph)) return runEncoderEval(graph, values);
  const loaded = loadData(values.data);
  let data: Dataset = loaded.test ?? loaded.train;
  if (values.limit) data = subset(data, 0, Math.min(data.length, Number(values.limit)));
  const fitted = dataFit(graph, data);
  const tenCrop = values['ten-crop'] ?? false;
  const batch = tenCrop ? 10 : Number(values.batch ?? 64);
  const sessions = await openEnsemble(graph, values.weights ?? [], batch, values.backend);
  process.stderr.write(`cnnc eval: ${graph.name} on ${sessions[0].device}; ${loaded.description}; ${groupDigits(data.length)} examples${tenCrop ? ', 10-crop' : ''}${sessions.length > 1 ? `, ensemble of ${sessions.length}` : ''}\n`);
  try {
    const classes = data.classes;
    const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    let loss = 0;
    const tally = (row: ArrayLike<number>, label: number) => {
      loss -= Math.log(Math.max(row[label], 1e-30));
      confusion[label][argmax(row)]++;
    };
    if (tenCrop) {
      const source = cropSource(fitted.height, fitted.width);
      for (let i = 0; i < data.length; i++) {
        const b = tenCropBatch(data, i, { height: fitted.height, width: fitted.width }, { fit: source });
        tally(averageCrops(await ensembleProbabilities(sessions, b.images, b.labels, 10), classes), b.labels[0]);
      }
    } else {
      for (const b of evalBatches(data, { batchSize: batch, ...(fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {}) })) {
        const p = await ensembleProbabilities(sessions, b.images, b.labels, b.labels.length);
        for (let i = 0; i < b.labels.length; i++) tally(p.subarray(i * classes, (i + 1) * classes), b.labels[i]);
      }
    }
    const correct = confusion.reduce((s, row, i) => s + row[i], 0);
    const names = data.classNames ?? (classes === 10 && values.data.startsWith('fashion') ? FASHION_CLASSES : undefined);
    const label = (i: number) => (names?.[i] ?? String(i)).slice(0, 11);
    const width = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
    const lines = [
      `loss ${(loss / data.length).toFixed(4)}`,
      `accuracy ${((correct / data.length) * 100).toFixed(2)}% (${groupDigits(correct)} of ${groupDigits(data.length)})`,
      'confusion matrix (rows: true class, columns: predicted):',
      `${''.padStart(15)}${confusion.map((_, j) => String(j).padStart(width)).join('')}`,
      ...confusion.map((row, i) => `${`${i} ${label(i)}`.padEnd(15)}${row.map((v) => String(v).padStart(width)).join('')}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    sessions.forEach((s) => s.dispose());
  }
}

export async function runPredict(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(PREDICT, argv);
  if (positionals.length < 2) throw new UsageError('cnnc predict takes a .cnn file and one or more images (PNG or JPEG)');
  const [file, ...imageFiles] = positionals;
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const input = graph.inputs.find((i) => !i.trainable)!;
  const [height, width, channels] = input.shape;
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new UsageError(`model ${graph.name} takes ${channels}-channel images; predict reads 1, 3 or 4`);
  const names = values['class-names'] === 'fashion-mnist' ? FASHION_CLASSES : values['class-names']?.split(',');
  const top = Number(values.top ?? 5);
  const tenCrop = values['ten-crop'] ?? false;
  const sessions = await openEnsemble(graph, values.weights ?? [], tenCrop ? 10 : 1, values.backend);
  try {
    for (const path of imageFiles) {
      const rgba = decodeImage(new Uint8Array(readFileSync(path)), path);
      let probabilities: Float32Array;
      if (tenCrop) {
        const source = cropSource(height, width);
        const image = imageForModel(rgba, source.height, source.width, channels);
        const ds: Dataset = { length: 1, shape: [channels, source.height, source.width], classes: 0, get: () => ({ image: image.slice(), label: 0 }) };
        const b = tenCropBatch(ds, 0, { height, width });
        const p = await ensembleProbabilities(sessions, b.images, b.labels, 10);
        probabilities = averageCrops(p, p.length / 10);
      } else {
        probabilities = await ensembleProbabilities(sessions, imageForModel(rgba, height, width, channels), new Int32Array(1), 1);
      }
      const ranked = [...probabilities].map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).slice(0, top);
      process.stdout.write(`${path}\n${ranked.map(({ p, i }) => `  ${(p * 100).toFixed(2).padStart(6)}%  ${i}${names?.[i] ? ` ${names[i]}` : ''}`).join('\n')}\n`);
    }
    return EXIT_OK;
  } finally {
    sessions.forEach((s) => s.dispose());
  }
}
