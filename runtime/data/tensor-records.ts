// Records held as whole tensors, one per field with the batch axis first: what safetensors and
// NumPy .npz files hold. Integer tensors are class-index fields (0..max); float tensors are
// values; a u8 `images` tensor is pixels, scaled to [0, 1], and an N x H x W `images` tensor is
// one channel (the images/labels convention of earlier versions).

import type { HostTensor } from '../tensor.ts';
import { getNumber, toFloat32 } from '../tensor.ts';
import { DataError } from './dataset.ts';
import { IMAGE_FIELD } from './image-records.ts';
import { elementCount, type FieldSpec, type Records } from './records.ts';

const INTEGER_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL']);

interface Column {
  readonly spec: FieldSpec;
  readonly data: Float32Array;
  readonly size: number;
}

function column(name: string, t: HostTensor, source: string): Column {
  let shape = t.shape.slice(1);
  let data: Float32Array;
  if (name === IMAGE_FIELD && t.dtype === 'U8') {
    const bytes = t.data as Uint8Array;
    data = Float32Array.from(bytes, (v) => v / 255);
    if (shape.length === 2) shape = [1, ...shape];
    return { spec: { shape, dtype: 'f32' }, data, size: elementCount(shape) };
  }
  if (name === IMAGE_FIELD && shape.length === 2) shape = [1, ...shape];
  if (INTEGER_DTYPES.has(t.dtype)) {
    data = new Float32Array(elementCount(t.shape));
    let max = -1;
    for (let i = 0; i < data.length; i++) {
      const v = getNumber(t, i);
      if (v < 0) throw new DataError(`${source}: field '${name}' holds ${v} at example ${Math.floor(i / Math.max(1, elementCount(shape)))}; class labels must be 0 or more`);
      if (v > max) max = v;
      data[i] = v;
    }
    return { spec: { shape, dtype: 'i32', classes: max + 1 }, data, size: elementCount(shape) };
  }
  data = toFloat32(t);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(`${source}: field '${name}' holds ${data[i]} at example ${Math.floor(i / Math.max(1, elementCount(shape)))}`);
  }
  return { spec: { shape, dtype: 'f32' }, data, size: elementCount(shape) };
}

/** Records from named tensors sharing their first (batch) axis. `source` names the file in errors. */
export function tensorRecords(tensors: ReadonlyMap<string, HostTensor>, source: string, classNames?: readonly string[]): Records {
  if (tensors.size === 0) throw new DataError(`${source}: no tensors`);
  const entries = [...tensors];
  const [firstName, first] = entries[0]!;
  if (first.shape.length === 0) throw new DataError(`${source}: tensor '${firstName}' is a scalar; every field needs a batch axis first`);
  const length = first.shape[0]!;
  const columns = new Map<string, Column>();
  for (const [name, t] of entries) {
    if (t.shape.length === 0 || t.shape[0] !== length) {
      throw new DataError(`${source}: tensor '${name}' has shape [${t.shape.join(', ')}]; every field needs the same batch axis first (${length} examples, as '${firstName}')`);
    }
    columns.set(name, column(name, t, source));
  }
  // A one-value integer field (N or N x 1, as Keras keeps labels) gives each example its class, for stratified samples and splits.
  const labelField = [...columns].find(([, c]) => c.spec.dtype === 'i32' && c.size === 1)?.[1];
  return {
    length,
    fields: new Map([...columns].map(([name, c]) => [name, c.spec] as const)),
    ...(classNames ? { classNames } : {}),
    ...(labelField ? { classOf: (i: number) => labelField.data[i]! } : {}),
    get(i) {
      if (!(Number.isInteger(i) && i >= 0 && i < length)) throw new RangeError(`example index ${i} is outside 0..${length - 1}`);
      return new Map([...columns].map(([name, c]) => [name, c.data.slice(i * c.size, (i + 1) * c.size)] as const));
    },
  };
}
