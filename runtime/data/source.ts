// Data sets described as plain, structured-cloneable data, so a worker thread can rebuild the same data set.

import { ArrayDataset, DataError, PickedDataset, SubsetDataset, type Dataset } from './dataset.ts';
import { ImageFolderDataset, type ImageFolderOptions } from './image-folder.ts';

export type DatasetSource =
  | {
      kind: 'arrays';
      pixels: Uint8Array | Float32Array;
      labels: Int32Array;
      shape: [number, number, number];
      classes: number;
      classNames?: string[];
    }
  | { kind: 'folder'; root: string; options: ImageFolderOptions }
  | { kind: 'subset'; base: DatasetSource; start: number; end: number }
  | { kind: 'pick'; base: DatasetSource; indices: Int32Array };

export function toSource(ds: Dataset): DatasetSource {
  if (ds instanceof ArrayDataset) {
    const classNames = ds.classNames ? [...ds.classNames] : undefined;
    return { kind: 'arrays', pixels: shared(ds.pixels), labels: ds.labels, shape: [...ds.shape], classes: ds.classes, classNames };
  }
  if (ds instanceof ImageFolderDataset) return { kind: 'folder', root: ds.root, options: ds.options };
  if (ds instanceof SubsetDataset) return { kind: 'subset', base: toSource(ds.base), start: ds.start, end: ds.end };
  if (ds instanceof PickedDataset) return { kind: 'pick', base: toSource(ds.base), indices: ds.indices };
  throw new DataError('this data set cannot be sent to worker threads (use ArrayDataset, ImageFolderDataset or subset(), or materialize() it)');
}

/** The same values backed by a SharedArrayBuffer, so every worker reads one copy instead of receiving its own. */
function shared<T extends Uint8Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as { new (b: SharedArrayBuffer): T })(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
}

export function fromSource(src: DatasetSource): Dataset {
  switch (src.kind) {
    case 'arrays':
      return new ArrayDataset(src.pixels, src.labels, src.shape, src.classes, src.classNames);
    case 'folder':
      return new ImageFolderDataset(src.root, src.options);
    case 'subset':
      return new SubsetDataset(fromSource(src.base), src.start, src.end);
    case 'pick':
      return new PickedDataset(fromSource(src.base), src.indices);
  }
}
