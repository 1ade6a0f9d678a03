// The class label of every example of an image data set without decoding its images: what
// stratified samples and splits read.

import { ArrayDataset, PickedDataset, SubsetDataset, type Dataset } from './dataset.ts';
import { ImageFolderDataset } from './image-folder.ts';

export function labelsOf(ds: Dataset): Int32Array {
  if (ds instanceof ArrayDataset) return ds.labels;
  if (ds instanceof ImageFolderDataset) return Int32Array.from(ds.files, (f) => f.label);
  if (ds instanceof SubsetDataset) return labelsOf(ds.base).slice(ds.start, ds.end);
  if (ds instanceof PickedDataset) {
    const base = labelsOf(ds.base);
    return Int32Array.from(ds.indices, (i) => base[i]!);
  }
  return Int32Array.from({ length: ds.length }, (_, i) => ds.get(i).label);
}
