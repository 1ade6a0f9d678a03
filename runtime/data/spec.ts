// Data specs for the command line:
//   fashion-mnist            the full set (60k train, 10k test) from Debian's dataset-fashion-mnist when
//                            installed, else the bundled split (below)
//   fashion-mnist-bundled    data/t10k-*: examples 0..7999 train, 8000..9999 test (see data/README.md)
//   idx:IMAGES,LABELS        IDX files (gzipped or not)
//   folder:PATH[@HxWxC]      one sub-folder per class, PNG/JPEG; size defaults to 32x32x3
//   safetensors:PATH         tensors `images` (N x C x H x W or N x H x W) and `labels` (N)

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataError, subset, type Dataset } from './dataset.ts';
import { loadIdxDataset } from './idx.ts';
import { ImageFolderDataset } from './image-folder.ts';
import { loadSafetensorsDataset } from './safetensors-dataset.ts';
import type { UserErrorKind } from '../../grammar/user-error.ts';

export type DataSpec =
  | { kind: 'fashion-mnist' }
  | { kind: 'fashion-mnist-bundled' }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'folder'; path: string; height: number; width: number; channels: 1 | 3 | 4 }
  | { kind: 'safetensors'; path: string };

export interface LoadedData {
  train: Dataset;
  /** A held-out set where the spec names one (the Fashion-MNIST specs); undefined otherwise. */
  test?: Dataset;
  /** One line saying what was loaded, for logs. */
  description: string;
}

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where Debian's dataset-fashion-mnist puts its files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
export const BUNDLED_DATA = fileURLToPath(new URL('../../data/', import.meta.url));
/** The bundled split: t10k examples [0, 8000) train, [8000, 10000) test. */
export const BUNDLED_TRAIN_COUNT = 8000;

const KNOWN = 'fashion-mnist, fashion-mnist-bundled, idx:IMAGES,LABELS, folder:PATH[@HxWxC], safetensors:PATH, npz:PATH, npy:FIELD=PATH,..., pairs:DIR[@HxWxC], triplets:DIR[@HxWxC]';

/** A data spec that cannot be read as one (a usage error, unlike a bad file). */
export class DataSpecError extends DataError {
  override readonly kind: UserErrorKind = 'usage';
  override name = 'DataSpecError';
}

export function parseDataSpec(spec: string): DataSpec {
  const s = spec.trim();
  if (s === 'fashion-mnist') return { kind: 'fashion-mnist' };
  if (s === 'fashion-mnist-bundled') return { kind: 'fashion-mnist-bundled' };
  const colon = s.indexOf(':');
  const prefix = colon > 0 ? s.slice(0, colon) : '';
  const rest = s.slice(colon + 1);
  if (prefix === 'idx') {
    const parts = rest.split(',');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new DataSpecError(`data spec '${spec}': idx needs two files, idx:IMAGES,LABELS`);
    return { kind: 'idx', images: parts[0], labels: parts[1] };
  }
  if (prefix === 'folder') {
    const m = /^(.*?)(?:@(\d+)x(\d+)x(\d+))?$/.exec(rest)!;
    if (!m[1]) throw new DataSpecError(`data spec '${spec}': folder needs a path, folder:PATH[@HxWxC]`);
    const channels = m[4] ? Number(m[4]) : 3;
    if (channels !== 1 && channels !== 3 && channels !== 4) throw new DataSpecError(`data spec '${spec}': channels must be 1, 3 or 4, got ${channels}`);
    const height = m[2] ? Number(m[2]) : 32;
    const width = m[3] ? Number(m[3]) : 32;
    if (height <= 0 || width <= 0) throw new DataSpecError(`data spec '${spec}': image size must be positive, got ${height}x${width}`);
    return { kind: 'folder', path: m[1], height, width, channels };
  }
  if (prefix === 'safetensors') {
    if (!rest) throw new DataSpecError(`data spec '${spec}': safetensors needs a path, safetensors:PATH`);
    return { kind: 'safetensors', path: rest };
  }
  throw new DataSpecError(`unknown data spec '${spec}': expected one of ${KNOWN}`);
}

function requireFile(path: string, spec: string): void {
  if (!existsSync(path)) throw new DataError(`data spec '${spec}': no such file or folder: ${path}`);
}

function fashionFiles(folder: string, prefix: 'train' | 't10k'): [string, string] {
  return [`${folder}/${prefix}-images-idx3-ubyte.gz`, `${folder}/${prefix}-labels-idx1-ubyte.gz`];
}

function loadBundled(): LoadedData {
  const [images, labels] = fashionFiles(BUNDLED_DATA, 't10k');
  requireFile(images, 'fashion-mnist-bundled');
  requireFile(labels, 'fashion-mnist-bundled');
  const all = loadIdxDataset(images, labels, 10, FASHION_CLASSES);
  return {
    train: subset(all, 0, BUNDLED_TRAIN_COUNT),
    test: subset(all, BUNDLED_TRAIN_COUNT, all.length),
    description: `Fashion-MNIST bundled test set split: ${BUNDLED_TRAIN_COUNT} train, ${all.length - BUNDLED_TRAIN_COUNT} test, 28x28x1`,
  };
}

/** Loads what a data spec names. Errors name the spec and the missing or corrupt file. */
export function loadData(spec: string | DataSpec, options: { debianFolder?: string } = {}): LoadedData {
  const text = typeof spec === 'string' ? spec : spec.kind;
  const d = typeof spec === 'string' ? parseDataSpec(spec) : spec;
  switch (d.kind) {
    case 'fashion-mnist': {
      const folder = options.debianFolder ?? DEBIAN_FASHION_MNIST;
      const train = fashionFiles(folder, 'train');
      const test = fashionFiles(folder, 't10k');
      if (![...train, ...test].every((f) => existsSync(f))) {
        const b = loadBundled();
        return { ...b, description: `${b.description} (${folder} not found: install Debian's dataset-fashion-mnist for the full set)` };
      }
      const tr = loadIdxDataset(train[0], train[1], 10, FASHION_CLASSES);
      const te = loadIdxDataset(test[0], test[1], 10, FASHION_CLASSES);
      return { train: tr, test: te, description: `Fashion-MNIST from ${folder}: ${tr.length} train, ${te.length} test, 28x28x1` };
    }
    case 'fashion-mnist-bundled':
      return loadBundled();
    case 'idx': {
      requireFile(d.images, text);
      requireFile(d.labels, text);
      const ds = loadIdxDataset(d.images, d.labels);
      return { train: ds, description: `IDX ${d.images}: ${ds.length} examples, ${ds.shape[1]}x${ds.shape[2]}x${ds.shape[0]}, ${ds.classes} classes` };
    }
    case 'folder': {
      requireFile(d.path, text);
      const ds = new ImageFolderDataset(d.path, { height: d.height, width: d.width, channels: d.channels });
      return { train: ds, description: `image folder ${d.path}: ${ds.length} images, ${ds.classes} classes, fitted to ${d.height}x${d.width}x${d.channels}` };
    }
    case 'safetensors': {
      requireFile(d.path, text);
      const ds = loadSafetensorsDataset(d.path);
      return { train: ds, description: `safetensors ${d.path}: ${ds.length} examples, ${ds.shape[1]}x${ds.shape[2]}x${ds.shape[0]}, ${ds.classes} classes` };
    }
  }
}
