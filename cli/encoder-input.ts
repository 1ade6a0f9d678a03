// What embed, verify, recognize and eval (on an encoder) share: compile the model, load the
// weights its encoding reads (every missing or misshaped tensor reported at once), open the
// encoder on a backend, and read images as the model's input.

import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ModelGraph } from '../compiler/graph.ts';
import { readSafetensorsFile } from '../runtime/checkpoint.ts';
import { DataError, PickedDataset, type Dataset } from '../runtime/data/dataset.ts';
import { labelsOf } from '../runtime/data/labels.ts';
import { stratifiedSample } from '../runtime/data/stratify.ts';
import { IMAGE_EXTENSIONS, imageForModel } from '../runtime/data/image.ts';
import { buildEncodingProgram, chooseEncoding, openEncoder, weightsForProgram, type Encoder } from '../runtime/faces/encoder.ts';
import type { Encodings } from '../runtime/faces/verification.ts';
import type { SafetensorsMetadata } from '../runtime/safetensors.ts';
import { pickExecutor } from '../runtime/train/create-session.ts';
import { toModelNames } from '../runtime/weights/load.ts';
import { readImageFile } from '../runtime/data/image-file.ts';
import { UsageError } from './io.ts';
import { parseBackend } from './model-input.ts';

export interface EncoderOptions {
  readonly weights?: string;
  readonly layer?: string;
  readonly backend?: string;
  readonly batch?: string;
}

export interface OpenedEncoder {
  readonly encoder: Encoder;
  readonly device: string;
  readonly metadata: SafetensorsMetadata;
  /** Changes when the model, the encoding layer or any weight value it reads changes. */
  readonly key: string;
  /** Reads, fits and encodes image files (errors name the file). */
  encodeFiles(paths: readonly string[]): Promise<Encodings>;
  close(): void;
}

export function parsePositiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new UsageError(`${flag} expects a positive integer, got '${value}'`);
  return n;
}

/** `--limit N`: a seeded sample in which every identity keeps its share (as the training loop's). */
export function stratifiedLimit(data: Dataset, n: number, seed: number): Dataset {
  if (n >= data.length) return data;
  const labels = labelsOf(data);
  return new PickedDataset(data, stratifiedSample((i) => labels[i]!, data.length, n, seed));
}

/** One image file as the encoder's input, CHW floats. */
export function readModelImage(path: string, shape: readonly [number, number, number]): Float32Array {
  const [channels, height, width] = shape;
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new DataError(`the model takes ${channels}-channel images; cnnc reads 1, 3 or 4`);
  return imageForModel(readImageFile(path), height, width, channels);
}

/** Image arguments: files as given, folders as every image inside (and in their sub-folders), sorted. */
export function expandImagePaths(args: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())) out.push(p);
    }
  };
  for (const a of args) {
    let isDir = false;
    try {
      isDir = statSync(a).isDirectory();
    } catch {
      // a missing file is reported when it is read
    }
    if (isDir) {
      const before = out.length;
      walk(a);
      if (out.length === before) throw new DataError(`${a}: no .png, .jpg or .jpeg images in this folder`);
    } else out.push(a);
  }
  return out;
}

export async function openFileEncoder(graph: ModelGraph, options: EncoderOptions): Promise<OpenedEncoder> {
  if (!options.weights) throw new UsageError('give the encoder weights with --weights FILE (safetensors)');
  const batch = parsePositiveInt(options.batch, '--batch', 32);
  const file = readSafetensorsFile(options.weights);
  const choice = chooseEncoding(graph, options.layer);
  const program = buildEncodingProgram(graph, choice, batch, 'eval');
  // Names of another framework are translated by the model's name map, where its file has one.
  const store = weightsForProgram(program, toModelNames(graph, file.tensors, options.weights).tensors, options.weights, `model ${graph.name}'s encoding ${choice.layer}`);
  const { executor, device, close } = await pickExecutor(parseBackend(options.backend));
  const encoder = await openEncoder(graph, choice, store, executor, batch);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ layers: graph.layers.map((l) => [l.name, l.attrs, l.inputs, l.shape]), layer: choice.layer, input: choice.input.shape }));
  for (const name of [...store.keys()].sort()) {
    const v = store.get(name)!;
    hash.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  const size = encoder.shape[0] * encoder.shape[1] * encoder.shape[2];
  return {
    encoder,
    device,
    metadata: file.metadata,
    key: hash.digest('hex'),
    async encodeFiles(paths) {
      const images = new Float32Array(paths.length * size);
      paths.forEach((p, i) => images.set(readModelImage(p, encoder.shape), i * size));
      return encoder.encode(images, paths.length);
    },
    close() {
      encoder.dispose();
      close();
    },
  };
}
