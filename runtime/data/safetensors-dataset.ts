// A data set stored as safetensors: `images` (N x C x H x W, or N x H x W for one channel) and `labels` (N).
// u8 images are scaled to [0, 1]; float images are used as they are.

import { readSafetensorsFile } from '../checkpoint.ts';
import { toFloat32, getNumber } from '../tensor.ts';
import { ArrayDataset, DataError } from './dataset.ts';

export function loadSafetensorsDataset(path: string): ArrayDataset {
  let tensors;
  try {
    tensors = readSafetensorsFile(path).tensors;
  } catch (e) {
    throw new DataError((e as Error).message);
  }
  const images = tensors.get('images');
  const labels = tensors.get('labels');
  const names = [...tensors.keys()].join(', ') || 'none';
  if (!images) throw new DataError(`${path}: no tensor named 'images' (tensors: ${names})`);
  if (!labels) throw new DataError(`${path}: no tensor named 'labels' (tensors: ${names})`);
  const s = images.shape;
  if (s.length !== 3 && s.length !== 4) throw new DataError(`${path}: 'images' must be N x C x H x W or N x H x W, got shape [${s.join(', ')}]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== s[0]) {
    throw new DataError(`${path}: 'labels' must have shape [${s[0]}] to match ${s[0]} images, got [${labels.shape.join(', ')}]`);
  }
  if (!['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64'].includes(labels.dtype)) {
    throw new DataError(`${path}: 'labels' must be integers, got ${labels.dtype}`);
  }
  const lab = new Int32Array(labels.shape[0]);
  for (let i = 0; i < lab.length; i++) lab[i] = getNumber(labels, i);
  const shape: [number, number, number] = s.length === 3 ? [1, s[1], s[2]] : [s[1], s[2], s[3]];
  const pixels = images.dtype === 'U8' ? (images.data as Uint8Array) : toFloat32(images);
  try {
    return new ArrayDataset(pixels, lab, shape);
  } catch (e) {
    throw new DataError(`${path}: ${(e as Error).message}`);
  }
}
