// What a data spec holds, seen by the training and evaluation commands: image classification data
// (which goes through the image pipeline: fit, augmentation, worker threads), or records of named
// tensors of any rank (which bind to a model's inputs and targets as they are).

import { existsSync } from 'node:fs';
import type { ModelGraph } from '../../compiler/graph.ts';
import { detectorOf } from '../detect/detector.ts';
import { detectionRecords, droppedBoxesNote, loadDetectionData } from '../detect/records.ts';
import { readSafetensorsFile } from '../checkpoint.ts';
import { DataError } from './dataset.ts';
import type { HostTensor } from '../tensor.ts';
import { pairRecords, tripletRecords } from './class-pairs.ts';
import { ImageFolderDataset } from './image-folder.ts';
import { IMAGE_FIELD, LABEL_FIELD } from './image-records.ts';
import { readNpyFile, readNpzFile } from './npy.ts';
import type { Records } from './records.ts';
import { DataSpecError, loadData, parseDataSpec, type LoadedData } from './spec.ts';
import { tensorRecords } from './tensor-records.ts';

export type FeedData =
  | { readonly kind: 'images'; readonly data: LoadedData; readonly source: string }
  | { readonly kind: 'records'; readonly train: Records; readonly test?: Records; readonly description: string; readonly source: string };

const INTEGER = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64']);

/** A safetensors file of exactly `images` (N x C x H x W or N x H x W) and integer `labels` (N): image classification data. */
function isImageClassification(tensors: ReadonlyMap<string, { shape: number[]; dtype: string }>): boolean {
  const images = tensors.get(IMAGE_FIELD);
  const labels = tensors.get(LABEL_FIELD);
  return tensors.size === 2 && !!images && !!labels && (images.shape.length === 3 || images.shape.length === 4) && labels.shape.length === 1 && INTEGER.has(labels.dtype);
}

function describeFields(records: Records): string {
  return [...records.fields].map(([name, f]) => `${name} ${f.shape.length ? f.shape.join('x') : 'scalar'} ${f.dtype}${f.classes !== undefined ? ` (${f.classes} classes)` : ''}`).join(', ');
}

function records(train: Records, kind: string, path: string): FeedData {
  return { kind: 'records', train, description: `${kind} ${path}: ${train.length} examples; fields ${describeFields(train)}`, source: path };
}

function requirePath(path: string, spec: string): void {
  if (!path) throw new DataSpecError(`data spec '${spec}': a path is missing`);
  if (!existsSync(path)) throw new DataError(`data spec '${spec}': no such file or folder: ${path}`);
}

/** `npy:FIELD=PATH,FIELD=PATH`: one .npy file per field. */
function npyFields(rest: string, spec: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new DataSpecError(`data spec '${spec}': npy expects FIELD=PATH[,FIELD=PATH...], got '${part}'`);
    const path = part.slice(eq + 1);
    requirePath(path, spec);
    out.set(part.slice(0, eq), readNpyFile(path));
  }
  return out;
}

/** Pairs or triplets from a class folder: `pairs:DIR[@HxWxC]`. */
function sampled(kind: 'pairs' | 'triplets', rest: string, spec: string): FeedData {
  const d = parseDataSpec(`folder:${rest}`);
  if (d.kind !== 'folder') throw new DataSpecError(`data spec '${spec}': ${kind} expects ${kind}:DIR[@HxWxC]`);
  requirePath(d.path, spec);
  const ds = new ImageFolderDataset(d.path, { height: d.height, width: d.width, channels: d.channels });
  const train = kind === 'pairs' ? pairRecords(ds, d.path) : tripletRecords(ds, d.path);
  return { kind: 'records', train, description: `${kind} from class folder ${d.path}: ${ds.length} images, ${ds.classes} classes, fitted to ${d.height}x${d.width}x${d.channels}`, source: d.path };
}

/** Detection folders and COCO files, as images and yolo target grids fitted to `graph`'s detector. */
function detectionFeedData(spec: string, graph: ModelGraph | undefined): FeedData | undefined {
  const data = loadDetectionData(spec);
  if (!data) return undefined;
  const det = graph && detectorOf(graph);
  if (!det) throw new DataSpecError(`data spec '${spec}': detection data feeds models with a yolo loss${graph ? `; ${graph.name} has none` : ''}`);
  const test = data.test ? detectionRecords(data.test, det) : undefined;
  const dropped = droppedBoxesNote(data.train, det);
  return { kind: 'records', train: detectionRecords(data.train, det, { mirror: true }), ...(test ? { test } : {}), description: `${data.description}${dropped ? `; ${dropped}` : ''}`, source: data.source };
}

/** The data a spec names; `graph` is the model it will feed (detection data is encoded for it). */
export function loadFeedData(spec: string, graph?: ModelGraph): FeedData {
  const detection = detectionFeedData(spec, graph);
  if (detection) return detection;
  const colon = spec.indexOf(':');
  const prefix = colon > 0 ? spec.slice(0, colon) : '';
  const rest = spec.slice(colon + 1);
  if (prefix === 'npz') {
    requirePath(rest, spec);
    return records(tensorRecords(readNpzFile(rest), rest), 'npz', rest);
  }
  if (prefix === 'npy') return records(tensorRecords(npyFields(rest, spec), rest), 'npy', rest);
  if (prefix === 'pairs' || prefix === 'triplets') return sampled(prefix, rest, spec);
  const d = parseDataSpec(spec);
  if (d.kind === 'safetensors') {
    if (!existsSync(d.path)) throw new DataError(`data spec '${spec}': no such file or folder: ${d.path}`);
    let tensors;
    try {
      tensors = readSafetensorsFile(d.path).tensors;
    } catch (e) {
      throw new DataError((e as Error).message);
    }
    if (!isImageClassification(tensors)) {
      return records(tensorRecords(tensors, d.path), 'safetensors', d.path);
    }
  }
  const source = d.kind === 'folder' || d.kind === 'safetensors' ? d.path : d.kind === 'idx' ? d.images : spec;
  return { kind: 'images', data: loadData(d), source };
}
