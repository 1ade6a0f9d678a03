// NumPy's .npy format (version 1-3: magic, a header dict with descr, fortran_order and shape, then
// the raw array in C order) and .npz archives of them (a zip, read with fflate). What Python
// users already have: np.save / np.savez / np.savez_compressed.

import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import type { DType, HostTensor } from '../tensor.ts';
import { DataError } from './dataset.ts';

/** NumPy type codes (without byte order) to safetensors dtypes. */
const DESCR: Readonly<Record<string, DType>> = {
  f8: 'F64', f4: 'F32', f2: 'F16', i8: 'I64', i4: 'I32', i2: 'I16', i1: 'I8', u8: 'U64', u4: 'U32', u2: 'U16', u1: 'U8', b1: 'BOOL',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** One .npy array as a host tensor (little-endian, C order). `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source: string): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new DataError(`${source}: not a NumPy .npy array (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  if (/'descr'\s*:\s*\[/.test(header)) throw new DataError(`${source}: structured NumPy arrays (a dtype with named parts) are not supported; save one array per field`);
  // Any simple dtype ('<f4', '<U1', '|O'): the ones without a tensor are refused by name below.
  const descr = /'descr'\s*:\s*'([<>|=]?)([^']+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw new DataError(`${source}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  const dtype = DESCR[descr[2]!];
  if (!dtype) throw new DataError(`${source}: NumPy dtype '${descr[1]}${descr[2]}' is not supported (use float32, float64, float16, int8..int64, uint8..uint64 or bool)`);
  if (descr[1] === '>' && descr[2] !== 'u1' && descr[2] !== 'i1' && descr[2] !== 'b1') throw new DataError(`${source}: big-endian arrays are not supported; save with arr.astype('<${descr[2]}')`);
  if (fortran[1] === 'True') throw new DataError(`${source}: Fortran-ordered arrays are not supported; save np.ascontiguousarray(arr)`);
  const shape = shapeText[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const width = Number(descr[2]!.slice(1));
  const offset = start + headerLength;
  if (bytes.length - offset < count * width) throw new DataError(`${source}: truncated: shape (${shape.join(', ')}) needs ${count * width} bytes of data, the file has ${bytes.length - offset}`);
  // Copy so the typed array is aligned whatever the header length, and owns its buffer: a Node
  // Buffer's slice is a view into a shared pool, whose `.buffer` starts elsewhere.
  const raw = new Uint8Array(bytes.subarray(offset, offset + count * width)).buffer;
  const arrays: Record<DType, () => HostTensor['data']> = {
    F64: () => new Float64Array(raw), F32: () => new Float32Array(raw), F16: () => new Uint16Array(raw), BF16: () => new Uint16Array(raw),
    I64: () => new BigInt64Array(raw), I32: () => new Int32Array(raw), I16: () => new Int16Array(raw), I8: () => new Int8Array(raw),
    U64: () => new BigUint64Array(raw), U32: () => new Uint32Array(raw), U16: () => new Uint16Array(raw), U8: () => new Uint8Array(raw), BOOL: () => new Uint8Array(raw),
  };
  return { dtype, shape, data: arrays[dtype]() } as HostTensor;
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export function readNpyFile(path: string): HostTensor {
  return parseNpy(readBytes(path), path);
}

/** Every array of an .npz archive, by name (without `.npy`), in archive order. */
export function readNpzFile(path: string): Map<string, HostTensor> {
  const bytes = readBytes(path);
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new DataError(`${path}: not a NumPy .npz archive (not a zip file)`);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new DataError(`${path}: not a readable .npz archive: ${(e as Error).message}`);
  }
  const out = new Map<string, HostTensor>();
  for (const [name, data] of Object.entries(entries)) {
    if (!name.endsWith('.npy')) continue;
    out.set(name.slice(0, -4), parseNpy(data, `${path}:${name}`));
  }
  if (out.size === 0) throw new DataError(`${path}: the archive holds no .npy arrays`);
  return out;
}
