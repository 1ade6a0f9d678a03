// `cnnc eval` and `cnnc predict`: inference-mode runs of trained weights, with the course's
// test-time tricks: 10-crop (four corners and the centre, and their mirrors) and ensembles of
// several checkpoints, whose class probabilities are averaged.

import { groupDigits } from '../compiler/checker/values.ts';
import { namedOutputs, type ModelGraph } from '../compiler/graph.ts';
import { irShape } from '../compiler/lower/layout.ts';
import { loadCheckpoint, readWeightsFile, writeFileAtomic, writeSafetensorsFile, type Json } from '../runtime/checkpoint.ts';
import { PickedDataset, type Dataset } from '../runtime/data/dataset.ts';
import { labelsOf } from '../runtime/data/labels.ts';
import { stratifiedSample, stratifiedSplit } from '../runtime/data/stratify.ts';
import { loadFeedData } from '../runtime/data/feed-data.ts';
import { detectorOf } from '../runtime/detect/detector.ts';
import { runDetectionEval } from './detect-eval.ts';
import { writePointImages } from './draw-points.ts';
import { imageRecords } from '../runtime/data/image-records.ts';
import { evalRecordBatches, pickRecords, type Records } from '../runtime/data/records.ts';
import type { Feeds } from '../runtime/executor.ts';
import { modelFeeds } from '../compiler/feeds.ts';
import { bindFeeds, describeBindings, feedsOf, parseFeedOverrides, type FeedBinding } from '../runtime/train/bind-feeds.ts';
import { evaluateRecords } from '../runtime/train/fit.ts';
import { describeMeasured } from '../runtime/train/progress.ts';
import { decodeImage, imageForModel } from '../runtime/data/image.ts';
import { tenCropBatch } from '../runtime/data/pipeline.ts';
import { FASHION_CLASSES } from '../runtime/data/spec.ts';
import { createSession } from '../runtime/train/create-session.ts';
import type { TrainingSession } from '../runtime/train/session.ts';
import { argmax } from '../runtime/train/argmax.ts';
import { matchWeights } from '../runtime/train/transfer.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { EVAL, PREDICT } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, readInputFile, UsageError } from './io.ts';
import { compileForRun, dataFit, parseBackend } from './model-input.ts';
import { isEncoderModel, runEncoderEval } from './eval-encoder.ts';

/** One session per weights file (an ensemble when there are several), all loaded strictly. */
export async function openEnsemble(graph: ModelGraph, files: readonly string[], batch: number, backend: string | undefined): Promise<TrainingSession[]> {
  if (files.length === 0) throw new UsageError('give trained weights with --weights FILE (repeat it for an ensemble)');
  const sessions: TrainingSession[] = [];
  // Any failure (an unreadable file too) closes the sessions opened so far: their threads would keep the process alive.
  try {
    for (const file of files) {
      const session = await createSession(graph, { batch, backend: parseBackend(backend), seed: 0 });
      sessions.push(session);
      const optimizerNames = new Set((await session.saveState()).optimizer.keys());
      const loaded = await readWeightsFor(graph, file);
      if (loaded.map) process.stderr.write(`weights ${loaded.note}\n`);
      const match = matchWeights(loaded.tensors, session.shapes, optimizerNames);
      // One rule with --resume: every tensor of the file must have its place in the model.
      const problems = [...match.missing.map((n) => `missing ${n}`), ...match.unexpected.map((n) => `unexpected ${n}`), ...match.reshaped.map((r) => `${r.name} is [${r.file.join(', ')}], the model expects [${r.model.join(', ')}]`)];
      if (problems.length > 0) {
        throw new UsageError(`${file} does not fit model ${graph.name}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
      }
      await session.loadState(match.state);
    }
  } catch (error) {
    sessions.forEach((s) => s.dispose());
    throw error;
  }
  return sessions;
}

/** The layer a model's first cross_entropy term scores (its class probabilities), if it has one. */
function classifierOutput(graph: ModelGraph): string | undefined {
  return graph.loss.find((t) => t.fn === 'cross_entropy')?.args[0];
}

/** Mean class probabilities of `count` images over every session of the ensemble. */
async function ensembleProbabilities(sessions: readonly TrainingSession[], output: string, feeds: Feeds, count: number): Promise<Float32Array> {
  let sum: Float32Array | undefined;
  for (const s of sessions) {
    const probabilities = (await s.predict(feeds, count)).get(output);
    if (!probabilities) throw new UsageError(`the classifier's probabilities (${output}) are not an output of the model; add \`output ${output}\``);
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

/** A confusion matrix (rows: true class, columns: predicted) as text. */
function confusionLines(confusion: readonly number[][], names: readonly string[] | undefined): string[] {
  const label = (i: number) => (names?.[i] ?? String(i)).slice(0, 11);
  const width = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
  return [
    'confusion matrix (rows: true class, columns: predicted):',
    `${''.padStart(15)}${confusion.map((_, j) => String(j).padStart(width)).join('')}`,
    ...confusion.map((row, i) => `${`${i} ${label(i)}`.padEnd(15)}${row.map((v) => String(v).padStart(width)).join('')}`),
  ];
}

/** A held-out split as `cnnc train --val FRACTION --seed N` made it. */
interface HeldOut {
  readonly fraction: number;
  readonly seed: number;
}

/** The data to evaluate (its test split where it has one, or --val's held-out part) as records, with the classes of the label field. */
function evalRecords(graph: ModelGraph, spec: string, limit: number | undefined, val: HeldOut | undefined, seed: number): { records: Records; description: string; source: string; images?: { data: Dataset; height: number; width: number } } {
  const loaded = loadFeedData(spec, graph);
  // What was picked, as `cnnc train` says it: `the 25% held out by --val (stratified, seed 0); a stratified sample of 8 (seed 0)`.
  const notes: string[] = [];
  const heldOut = (stratified: boolean) => notes.push(`the ${+(val!.fraction * 100).toFixed(2)}% held out by --val (${stratified ? 'stratified, ' : ''}seed ${val!.seed})`);
  const sampled = (count: number, stratified: boolean) => notes.push(`a ${stratified ? 'stratified ' : ''}sample of ${groupDigits(count)} (seed ${seed})`);
  const describe = (description: string) => [description, ...notes].join('; ');
  if (loaded.kind === 'records') {
    let records = loaded.test ?? loaded.train;
    const classOf = loaded.train.classOf;
    if (val) {
      records = pickRecords(loaded.train, stratifiedSplit(classOf ? (i) => classOf(i) : undefined, loaded.train.length, val.fraction, val.seed).val);
      heldOut(classOf !== undefined);
    }
    if (limit !== undefined && limit < records.length) {
      const from = records;
      records = pickRecords(from, stratifiedSample(from.classOf ? (i) => from.classOf!(i) : undefined, from.length, limit, seed));
      sampled(records.length, from.classOf !== undefined);
    }
    return { records, description: describe(loaded.description), source: loaded.source };
  }
  let data: Dataset = loaded.data.test ?? loaded.data.train;
  if (val) {
    const labels = labelsOf(loaded.data.train);
    data = new PickedDataset(loaded.data.train, stratifiedSplit((i) => labels[i]!, labels.length, val.fraction, val.seed).val);
    heldOut(true);
  }
  if (limit !== undefined && limit < data.length) {
    const labels = labelsOf(data);
    data = new PickedDataset(data, stratifiedSample((i) => labels[i]!, labels.length, limit, seed));
    sampled(data.length, true);
  }
  const fitted = dataFit(graph, data);
  const fit = fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {};
  const names = data.classNames ?? (data.classes === 10 && spec.startsWith('fashion') ? FASHION_CLASSES : undefined);
  const records = imageRecords(data, fit);
  return { records: names ? { ...records, classNames: names } : records, description: describe(loaded.data.description), source: loaded.source, images: { data, height: fitted.height, width: fitted.width } };
}

export async function runEval(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(EVAL, argv);
  expectOneFile(EVAL, positionals);
  if (!values.data) throw new UsageError('cnnc eval needs --data');
  const overrides = parseFeedOverrides(values.feed);
  const graph = compileForRun(positionals[0], values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  if (isEncoderModel(graph)) {
    // An encoder on identity-labelled images: verification over pairs (cli/eval-encoder.ts).
    const feedData = loadFeedData(values.data);
    if (feedData.kind === 'images') return runEncoderEval(graph, values, feedData.data);
  }
  if (graph.loss.length === 0) throw new UsageError(`model ${graph.name} declares no loss to evaluate; use cnnc predict for its outputs`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const detector = detectorOf(graph);
  if (detector) {
    // Detectors are scored by mAP over decoded boxes rather than by the loss.
    const [session] = await openEnsemble(graph, values.weights ?? [], Number(values.batch ?? 64), values.backend);
    try {
      process.stdout.write(`${(await runDetectionEval(graph, detector, session!, values.data, limit, Number(values.batch ?? 64))).join('\n')}\n`);
    } finally {
      session!.dispose();
    }
    return EXIT_OK;
  }
  const fraction = values.val === undefined ? undefined : Number(values.val);
  if (fraction !== undefined && !(fraction > 0 && fraction < 1)) throw new UsageError(`--val expects a fraction between 0 and 1, got '${values.val}'`);
  const seed = Number(values.seed ?? 0);
  const { records, description, source, images } = evalRecords(graph, values.data, limit, fraction === undefined ? undefined : { fraction, seed }, seed);
  const bindings = bindFeeds(graph, records.fields, overrides, source);
  const tenCrop = values['ten-crop'] ?? false;
  const output = classifierOutput(graph);
  if ((tenCrop || (values.weights?.length ?? 0) > 1) && (!output || !images)) throw new UsageError('--ten-crop and ensembles apply to classifiers (a cross_entropy loss) on image data');
  const batch = tenCrop ? 10 : Number(values.batch ?? 64);
  const sessions = await openEnsemble(graph, values.weights ?? [], batch, values.backend);
  process.stderr.write(`cnnc eval: ${graph.name} on ${sessions[0].device}; ${description}; ${groupDigits(records.length)} examples${tenCrop ? ', 10-crop' : ''}${sessions.length > 1 ? `, ensemble of ${sessions.length}` : ''}\n`);
  process.stderr.write(`feeds: ${describeBindings(bindings)}\n`);
  try {
    const labelFeed = bindings.find((b) => b.feed.classes !== undefined);
    const classes = labelFeed?.feed.classes ?? 0;
    const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    const lines: string[] = [];
    if (tenCrop || sessions.length > 1) {
      // Class probabilities averaged over crops and checkpoints: loss and accuracy from them.
      let loss = 0;
      const tally = (row: ArrayLike<number>, label: number) => {
        loss -= Math.log(Math.max(row[label]!, 1e-30));
        confusion[label]![argmax(row)]!++;
      };
      const input = graph.inputs.find((i) => !i.trainable)!.name;
      const data = images!.data;
      if (tenCrop) {
        const sourceSize = cropSource(images!.height, images!.width);
        for (let i = 0; i < data.length; i++) {
          const b = tenCropBatch(data, i, { height: images!.height, width: images!.width }, { fit: sourceSize });
          tally(averageCrops(await ensembleProbabilities(sessions, output!, new Map([[input, b.images]]), 10), classes), b.labels[0]!);
        }
      } else {
        for (const b of evalRecordBatches(records, batch)) {
          const feeds = feedsOf(bindings, b);
          const p = await ensembleProbabilities(sessions, output!, feeds, b.count);
          const labels = feeds.get(labelFeed!.feed.name)!;
          for (let i = 0; i < b.count; i++) tally(p.subarray(i * classes, (i + 1) * classes), labels[i]!);
        }
      }
      const correct = confusion.reduce((s, row, i) => s + row[i]!, 0);
      lines.push(`loss ${(loss / data.length).toFixed(4)}`, `accuracy ${((correct / data.length) * 100).toFixed(2)}% (${groupDigits(correct)} of ${groupDigits(data.length)})`);
    } else {
      const session = sessions[0]!;
      const measured = await evaluateRecords(session, records, bindings, (result, feeds, count) => {
        if (!output || !labelFeed) return;
        const p = result.outputs.get(output);
        const labels = feeds.get(labelFeed.feed.name)!;
        if (p) for (let i = 0; i < count; i++) confusion[labels[i]!]![argmax(p.subarray(i * classes, (i + 1) * classes))]!++;
      });
      lines.push(describeMeasured({ terms: session.terms, metrics: [] }, measured));
      session.metrics.forEach((m, i) => lines.push(`${m.name} ${m.percent ? `${(measured.metrics[i]! * 100).toFixed(2)}%` : measured.metrics[i]!.toFixed(4)}`));
    }
    if (classes > 0 && confusion.some((row) => row.some((v) => v > 0))) lines.push(...confusionLines(confusion, records.classNames));
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    sessions.forEach((s) => s.dispose());
  }
}

/** What `cnnc train` kept beside the weights (class names, ...); empty for a plain weights file. */
export function storedInfo(weightsFile: string | undefined): Record<string, Json> {
  if (!weightsFile) return {};
  try {
    return loadCheckpoint(weightsFile).info;
  } catch {
    return {}; // a plain weights file: no metadata
  }
}

/** Class names a training run stored in its checkpoint (image folders), if any. */
export function storedClassNames(weightsFile: string | undefined, info = storedInfo(weightsFile)): string[] | undefined {
  const names = info.class_names;
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
}

/** The model's single image input, which image files feed; anything else is given with --data. */
function imageInput(graph: ModelGraph): { name: string; height: number; width: number; channels: 1 | 3 | 4 } {
  const inputs = graph.inputs.filter((i) => !i.trainable);
  const input = inputs[0];
  if (inputs.length !== 1 || !input || input.shape.length !== 3) {
    throw new UsageError(`model ${graph.name} does not take one H x W x C image (its inputs: ${inputs.map((i) => i.name).join(', ')}); give its inputs with --data SPEC`);
  }
  const [height, width, channels] = input.shape as [number, number, number];
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new UsageError(`model ${graph.name} takes ${channels}-channel images; predict reads 1, 3 or 4`);
  return { name: input.name, height, width, channels };
}

/** Image files as records of one field, fitted to the model's single image input. */
function imageFileRecords(graph: ModelGraph, files: readonly string[]): Records {
  const input = imageInput(graph);
  const { height, width, channels } = input;
  return {
    length: files.length,
    fields: new Map([[input.name, { shape: [channels, height, width], dtype: 'f32' as const }]]),
    get: (i) => new Map([[input.name, imageForModel(decodeImage(readInputFile(files[i]!, 'image'), files[i]!), height, width, channels)]]),
  };
}

/** The inputs to run, from --data (records or image data) or image files. */
function predictRecords(graph: ModelGraph, spec: string | undefined, files: readonly string[]): { records: Records; source: string } {
  if (!spec) return { records: imageFileRecords(graph, files), source: files[0]! };
  const loaded = loadFeedData(spec, graph);
  if (loaded.kind === 'records') return { records: loaded.test ?? loaded.train, source: loaded.source };
  const data = loaded.data.test ?? loaded.data.train;
  const fitted = dataFit(graph, data);
  return { records: imageRecords(data, fitted.needsFit ? { fit: { height: fitted.height, width: fitted.width } } : {}), source: loaded.source };
}

/** Writes every output under the name the model file gives it (its layer's unless `output a` names a binding): safetensors ([N, ...] in PyTorch layout) or JSON ({name: {shape, values: one flat array per example}}). */
function writeOutputs(path: string | undefined, outputs: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
  if (path?.endsWith('.safetensors')) {
    writeSafetensorsFile(path, new Map([...outputs].map(([name, o]) => [name, { dtype: 'F32' as const, shape: o.shape, data: o.data }])));
    return;
  }
  if (path && !path.endsWith('.json')) throw new UsageError(`--out ${path}: expected a .safetensors or .json file`);
  const json: Record<string, { shape: number[]; values: number[][] }> = {};
  for (const [name, o] of outputs) {
    const per = o.shape.slice(1).reduce((a, b) => a * b, 1);
    json[name] = { shape: o.shape, values: Array.from({ length: o.shape[0]! }, (_, i) => Array.from(o.data.subarray(i * per, (i + 1) * per))) };
  }
  const text = `${JSON.stringify(json)}\n`;
  if (path) writeFileAtomic(path, new TextEncoder().encode(text));
  else process.stdout.write(text);
}

/** Every output of the model for every example, averaged over the ensemble, by the name the model file gives it. */
async function predictAll(graph: ModelGraph, sessions: readonly TrainingSession[], records: Records, bindings: readonly FeedBinding[], batch: number): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const parts = new Map<string, Float32Array[]>();
  for (const b of evalRecordBatches(records, batch)) {
    const feeds = feedsOf(bindings, b);
    for (const [k, s] of sessions.entries()) {
      for (const [name, value] of await s.predict(feeds, b.count)) {
        if (!parts.has(name)) parts.set(name, []);
        const list = parts.get(name)!;
        if (k === 0) list.push(Float32Array.from(value, (v) => v / sessions.length));
        else list.at(-1)!.forEach((_, i, a) => (a[i]! += value[i]! / sessions.length));
      }
    }
  }
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { name, tensor } of namedOutputs(graph)) {
    const list = parts.get(tensor)!;
    const data = new Float32Array(list.reduce((n, l) => n + l.length, 0));
    let at = 0;
    for (const l of list) {
      data.set(l, at);
      at += l.length;
    }
    out.set(name, { shape: [records.length, ...irShape(sessions[0]!.outputShapes.get(tensor)!, 1).slice(1)], data });
  }
  return out;
}

export async function runPredict(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(PREDICT, argv);
  const [file, ...imageFiles] = positionals;
  if (!file || (imageFiles.length === 0 && !values.data)) throw new UsageError('cnnc predict takes a .cnn file and images (PNG or JPEG) or --data SPEC');
  if (imageFiles.length > 0 && values.data) throw new UsageError('cnnc predict takes images or --data, not both');
  const overrides = parseFeedOverrides(values.feed);
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const classifier = classifierOutput(graph);
  const tenCrop = values['ten-crop'] ?? false;
  if (values.draw && (values.data || imageFiles.length === 0)) throw new UsageError('--draw draws on image files: give images, not --data');
  if (!classifier || values.out || values.data || values.draw) {
    if (tenCrop) throw new UsageError('--ten-crop applies to classifiers predicting images');
    const { records, source } = predictRecords(graph, values.data, imageFiles);
    const bindings = bindFeeds(graph, records.fields, overrides, source, modelFeeds(graph).filter((f) => f.role === 'input'));
    const batch = Number(values.batch ?? 64);
    const sessions = await openEnsemble(graph, values.weights ?? [], batch, values.backend);
    try {
      const outputs = await predictAll(graph, sessions, records, bindings, batch);
      if (values.draw) writePointImages(values.draw, graph, imageFiles, outputs);
      writeOutputs(values.out, outputs);
      if (values.out) process.stderr.write(`cnnc predict: ${graph.name}: ${[...outputs.keys()].join(', ')} of ${records.length} example(s) written to ${values.out}\n`);
      return EXIT_OK;
    } finally {
      sessions.forEach((s) => s.dispose());
    }
  }
  const input = imageInput(graph);
  const { height, width, channels } = input;
  const names = values['class-names'] === 'fashion-mnist' ? FASHION_CLASSES : (values['class-names']?.split(',') ?? storedClassNames(values.weights?.[0]));
  const top = Number(values.top ?? 5);
  const sessions = await openEnsemble(graph, values.weights ?? [], tenCrop ? 10 : 1, values.backend);
  try {
    for (const path of imageFiles) {
      const rgba = decodeImage(readInputFile(path, 'image'), path);
      let probabilities: Float32Array;
      if (tenCrop) {
        const source = cropSource(height, width);
        const image = imageForModel(rgba, source.height, source.width, channels);
        const ds: Dataset = { length: 1, shape: [channels, source.height, source.width], classes: 0, get: () => ({ image: image.slice(), label: 0 }) };
        const b = tenCropBatch(ds, 0, { height, width });
        const p = await ensembleProbabilities(sessions, classifier, new Map([[input.name, b.images]]), 10);
        probabilities = averageCrops(p, p.length / 10);
      } else {
        probabilities = await ensembleProbabilities(sessions, classifier, new Map([[input.name, imageForModel(rgba, height, width, channels)]]), 1);
      }
      const ranked = [...probabilities].map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).slice(0, top);
      process.stdout.write(`${path}\n${ranked.map(({ p, i }) => `  ${(p * 100).toFixed(2).padStart(6)}%  ${i}${names?.[i] ? ` ${names[i]}` : ''}`).join('\n')}\n`);
    }
    return EXIT_OK;
  } finally {
    sessions.forEach((s) => s.dispose());
  }
}
