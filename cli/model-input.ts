// What train, eval and predict share: compile the model (diagnostics to stderr), check that the
// data fits its input, and read --backend.

import { statSync } from 'node:fs';
import { hasErrors } from '../grammar/diagnostics.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { compileModel, unreadableReason } from '../compiler/program.ts';
import type { Dataset } from '../runtime/data/dataset.ts';
import { DataError } from '../runtime/data/dataset.ts';
import type { Backend } from '../runtime/train/create-session.ts';
import { parseOverrides, printDiagnostics, UsageError } from './io.ts';

export function compileForRun(file: string, model: string | undefined, sets: readonly string[] | undefined): ModelGraph | undefined {
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`cannot read ${unreadableReason(file)}`);
  const result = compileModel({ file, model, overrides: parseOverrides(sets) });
  printDiagnostics(result.diagnostics);
  return hasErrors(result.diagnostics) ? undefined : result.graph;
}

export function parseBackend(value: string | undefined): Backend {
  const backend = value ?? 'auto';
  if (backend !== 'auto' && backend !== 'webgpu' && backend !== 'wasm' && backend !== 'cpu') throw new UsageError(`--backend expects auto, webgpu, wasm or cpu, got '${backend}'`);
  return backend;
}

/**
 * For image classification data: the model's image size, and whether the data must be
 * centre-padded or cropped to it (28x28 Fashion-MNIST into LeNet-5's 32x32). Channels and classes
 * must match: they are the model's to change (`--set channels=1`), not the data's. A model whose
 * inputs are not one H x W x C image gets the images as they are; binding its feeds says what is wrong.
 */
export function dataFit(graph: ModelGraph, data: Dataset): { height: number; width: number; needsFit: boolean } {
  const [c, h, w] = data.shape;
  const feedInputs = graph.inputs.filter((i) => !i.trainable);
  const input = feedInputs.length === 1 ? feedInputs[0] : undefined;
  if (!input || input.shape.length !== 3) return { height: h, width: w, needsFit: false };
  const [height, width, channels] = input.shape;
  if (c !== channels) {
    throw new DataError(`the data has ${c} channel(s), model ${graph.name} expects ${channels}${graph.inputs.length ? `; try --set channels=${c}` : ''}`);
  }
  const classifier = graph.loss.find((t) => t.fn === 'cross_entropy');
  const classes = classifier ? graph.layers.find((l) => l.name === classifier.args[0])?.shape[0] : undefined;
  if (classes !== undefined && classes !== data.classes) {
    throw new DataError(`the data has ${data.classes} classes, model ${graph.name} predicts ${classes}; try --set classes=${data.classes}`);
  }
  return { height, width, needsFit: h !== height || w !== width };
}
