// The safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes  little-endian u64 N, the header length
//   N bytes  UTF-8 JSON: { name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string} }
//   rest     the byte buffer; offsets are relative to its start
// The reference implementation rejects gaps and overlaps (tensors must tile the buffer exactly), and so do we.
// Pure module (no node: imports) so that browser bundles can use it.

import { DTYPE_BYTES, elementCount, isDType, allocData, shapeToString, tensorBytes, type DType, type HostTensor } from './tensor.ts';
import { UserError } from '../grammar/user-error.ts';

export type SafetensorsMetadata = Record<string, string>;

/** Raised for any malformed file; the message names the file and what is wrong. */
export class SafetensorsError extends UserError {
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`${source}: invalid safetensors file: ${problem}`);
    this.name = 'SafetensorsError';
    this.source = source;
  }
}

/** Header lengths above this are refused (the reference implementation's limit) so a corrupt length cannot make us allocate gigabytes. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: SafetensorsMetadata;
}

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** Reads all tensors of a safetensors file. `source` names the file in errors. */
const TO_SAFETENSORS = "convert it in Python: from safetensors.torch import save_file; save_file(torch.load('FILE.pt'), 'FILE.safetensors')";

/**
 * Files people pass as weights that are not safetensors: PyTorch's zip and pickle formats, NumPy.
 * A file whose header begins with '{' after the 8-byte length is safetensors whatever its first
 * bytes: a header of 1,152 bytes starts 0x80 0x04, like a pickle.
 */
function otherFormat(bytes: Uint8Array): string | undefined {
  if (bytes[8] === 0x7b) return undefined;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return `this is a zip archive (a PyTorch .pt/.pth file?), not safetensors; ${TO_SAFETENSORS}`;
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return `this is a Python pickle (an old PyTorch .pt file?), not safetensors; ${TO_SAFETENSORS}`;
  if (bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY') return 'this is a NumPy .npy file, not safetensors; save the arrays with safetensors.numpy.save_file';
  return undefined;
}

export function readSafetensors(bytes: Uint8Array, source: string): Map<string, HostTensor> {
  return readSafetensorsWithMetadata(bytes, source).tensors;
}

/** Reads tensors and the `__metadata__` map (empty when absent). */
export function readSafetensorsWithMetadata(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (problem: string): never => {
    throw new SafetensorsError(source, problem);
  };
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const other = otherFormat(bytes);
  if (other) fail(other);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.byteLength) {
    fail(`header length ${headerLen} runs past the end of the file (${bytes.byteLength} bytes; truncated?)`);
  }
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (starts with ${JSON.stringify(text.slice(0, 16))})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: SafetensorsMetadata = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${METADATA_KEY} must be an object of strings`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, dataLen, fail));
  }

  // Tensors must tile the byte buffer: sorted by offset, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (e.begin < cursor) fail(`tensor '${e.name}' [${e.begin}, ${e.end}) overlaps tensor '${sorted[i - 1].name}' which ends at ${cursor}`);
    if (e.begin > cursor) fail(`gap of ${e.begin - cursor} bytes before tensor '${e.name}' (data offsets ${cursor}..${e.begin} unused)`);
    cursor = e.end;
  }
  if (cursor !== dataLen) {
    fail(`tensors cover ${cursor} bytes but the data section has ${dataLen} bytes (${cursor < dataLen ? 'trailing bytes' : 'truncated'})`);
  }

  const tensors = new Map<string, HostTensor>();
  for (const e of entries) {
    const data = allocData(e.dtype, elementCount(e.shape));
    // Copy through bytes: the source may be unaligned for the typed array, and callers must not alias the file buffer.
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseEntry(name: string, raw: unknown, dataLen: number, fail: (problem: string) => never): HeaderEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`entry '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDType(dtype)) fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has bad shape ${JSON.stringify(shape)} (need an array of non-negative integers)`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)} (need [begin, end] of non-negative integers)`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with end before begin`);
  if (end > dataLen) {
    fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the data section of ${dataLen} bytes (file truncated?)`);
  }
  const dt = dtype as DType;
  const dims = shape as number[];
  const need = elementCount(dims) * DTYPE_BYTES[dt];
  if (end - begin !== need) {
    fail(`tensor '${name}' (${dt}, shape ${shapeToString(dims)}) needs ${need} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, dtype: dt, shape: [...dims], begin, end };
}

/** Writes tensors (and optional string metadata) as a safetensors file. */
export function writeSafetensors(
  tensors: Map<string, HostTensor> | Record<string, HostTensor>,
  metadata?: SafetensorsMetadata,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  // Like the reference writer: larger elements first (keeps every tensor aligned to its element size), then by name.
  list.sort(([an, a], [bn, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata '${k}' must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new TypeError(`a tensor cannot be named '${METADATA_KEY}'`);
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new RangeError(`tensor '${name}' has shape ${shapeToString(t.shape)} (${n} elements) but ${t.data.length} values`);
    }
    const size = n * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== size) {
      throw new TypeError(`tensor '${name}' has dtype ${t.dtype} but its data is a ${t.data.constructor.name}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces to a multiple of 8 so the data section starts aligned.
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of list) {
    const b = tensorBytes(t);
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}
