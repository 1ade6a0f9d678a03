// What a data spec holds, seen by the training and evaluation commands: image classification data
// (which goes through the image pipeline: fit, augmentation, worker threads), or records of named
// tensors of any rank (which bind to a model's inputs and targets as they are).

import { existsSync } from 'node:fs';
import { readSafetensorsFile } from '../checkpoint.ts';
import { DataError } from './dataset.ts';
import { IMAGE_FIELD, LABEL_FIELD } from './image-records.ts';
import type { Records } from './records.ts';
import { loadData, parseDataSpec, type LoadedData } from './spec.ts';
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

export function loadFeedData(spec: string): FeedData {
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
      const train = tensorRecords(tensors, d.path);
      return { kind: 'records', train, description: `safetensors ${d.path}: ${train.length} examples; fields ${describeFields(train)}`, source: d.path };
    }
  }
  const source = d.kind === 'folder' || d.kind === 'safetensors' ? d.path : d.kind === 'idx' ? d.images : spec;
  return { kind: 'images', data: loadData(d), source };
}
