// IDX files (MNIST, Fashion-MNIST), plain or gzipped.
//   bytes 0-1: 0, byte 2: element type code, byte 3: number of dimensions d
//   then d big-endian u32 sizes, then the elements, big-endian, row-major.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ArrayDataset, DataError } from './dataset.ts';
import type { UserErrorKind } from '../../grammar/user-error.ts';

export class IdxError extends DataError {
  /** A malformed file is a usage error, unlike data that does not fit the model. */
  override readonly kind: UserErrorKind = 'usage';
  constructor(source: string, problem: string) {
    super(`${source}: invalid IDX file: ${problem}`);
    this.name = 'IdxError';
  }
}

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  data: IdxData;
}

const TYPES: Record<number, { name: string; bytes: number; make: (n: number) => IdxData; read: (v: DataView, at: number) => number }> = {
  0x08: { name: 'u8', bytes: 1, make: (n) => new Uint8Array(n), read: (v, at) => v.getUint8(at) },
  0x09: { name: 'i8', bytes: 1, make: (n) => new Int8Array(n), read: (v, at) => v.getInt8(at) },
  0x0b: { name: 'i16', bytes: 2, make: (n) => new Int16Array(n), read: (v, at) => v.getInt16(at, false) },
  0x0c: { name: 'i32', bytes: 4, make: (n) => new Int32Array(n), read: (v, at) => v.getInt32(at, false) },
  0x0d: { name: 'f32', bytes: 4, make: (n) => new Float32Array(n), read: (v, at) => v.getFloat32(at, false) },
  0x0e: { name: 'f64', bytes: 8, make: (n) => new Float64Array(n), read: (v, at) => v.getFloat64(at, false) },
};

/** Un-gzips when the bytes start with gzip's magic number. */
export function maybeGunzip(bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new IdxError(source, `gzip data is corrupt: ${(e as Error).message}`);
    }
  }
  return bytes;
}

/** Parses IDX bytes (already un-gzipped). */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const fail = (problem: string): never => {
    throw new IdxError(source, problem);
  };
  if (bytes.length < 4) fail(`file is ${bytes.length} bytes, too short for the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`magic number starts with ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00`);
  const type = TYPES[bytes[2]];
  if (!type) fail(`unknown element type code ${hex(bytes[2])} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)`);
  const ndim = bytes[3];
  if (ndim === 0) fail('number of dimensions is 0');
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) fail(`file is ${bytes.length} bytes, too short for ${ndim} dimension sizes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * type.bytes;
  if (bytes.length !== expected) {
    fail(`dimensions ${dims.join(' x ')} of ${type.name} need ${expected} bytes, but the file has ${bytes.length}${bytes.length < expected ? ' (truncated?)' : ''}`);
  }
  let data: IdxData;
  if (type.bytes === 1) {
    data = type.make(count);
    (data as Uint8Array).set(bytes.subarray(headerLen));
  } else {
    data = type.make(count);
    for (let i = 0; i < count; i++) data[i] = type.read(view, headerLen + i * type.bytes);
  }
  return { dims, data };
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0').toUpperCase();
}

export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(err.code === 'ENOENT' ? `${path}: no such IDX file` : `${path}: cannot read: ${err.message}`);
  }
  return parseIdx(maybeGunzip(bytes, path), path);
}

/**
 * An image data set from an IDX images file (N x H x W or N x C x H x W, u8 or float) and an IDX labels file (N).
 * Errors name the file at fault.
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, classes?: number, classNames?: readonly string[]): ArrayDataset {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new IdxError(imagesPath, `images must have 3 (N x H x W) or 4 (N x C x H x W) dimensions, got ${images.dims.length} (${images.dims.join(' x ')})`);
  }
  if (labels.dims.length !== 1) throw new IdxError(labelsPath, `labels must have 1 dimension (N), got ${labels.dims.length} (${labels.dims.join(' x ')})`);
  if (images.dims[0] === 0) throw new IdxError(imagesPath, 'holds no images (its first dimension is 0)');
  if (labels.data instanceof Float32Array || labels.data instanceof Float64Array) throw new IdxError(labelsPath, 'labels must be integers, not floats');
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataError(`${imagesPath} has ${images.dims[0]} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  const shape: [number, number, number] = images.dims.length === 3 ? [1, images.dims[1], images.dims[2]] : [images.dims[1], images.dims[2], images.dims[3]];
  let pixels: Uint8Array | Float32Array;
  if (images.data instanceof Uint8Array) pixels = images.data;
  else if (images.data instanceof Float32Array) pixels = images.data;
  else pixels = Float32Array.from(images.data);
  const lab = Int32Array.from(labels.data);
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] < 0 || (classes !== undefined && lab[i] >= classes)) {
      throw new IdxError(labelsPath, `label ${lab[i]} of example ${i} is outside 0..${(classes ?? 1) - 1}`);
    }
  }
  return new ArrayDataset(pixels, lab, shape, classes, classNames);
}
