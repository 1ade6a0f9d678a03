// Host-side tensors: a dtype, a shape and a typed array in row-major order.
// Shared by safetensors files, checkpoints, data sets and the CPU reference.

/** Element types of safetensors files (the subset of its spec that cnnc reads and writes). */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPES: readonly DType[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'];

/** Bytes per element for each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The typed array that holds each dtype. F16 and BF16 keep their raw 16-bit patterns in a Uint16Array. */
export interface DTypeArrays {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U64: BigUint64Array;
  U32: Uint32Array;
  U16: Uint16Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

export type TensorData = DTypeArrays[DType];

/** A tensor in host memory, row-major (C order), PyTorch layout conventions (NCHW, OIHW, [out, in]). */
export interface HostTensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeArrays[D];
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

/** Number of elements a shape holds (1 for a scalar shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Allocates a zero-filled typed array of `length` elements for `dtype`. */
export function allocData<D extends DType>(dtype: D, length: number): DTypeArrays[D] {
  const arrays: { [K in DType]: (n: number) => DTypeArrays[K] } = {
    F64: (n) => new Float64Array(n),
    F32: (n) => new Float32Array(n),
    F16: (n) => new Uint16Array(n),
    BF16: (n) => new Uint16Array(n),
    I64: (n) => new BigInt64Array(n),
    I32: (n) => new Int32Array(n),
    I16: (n) => new Int16Array(n),
    I8: (n) => new Int8Array(n),
    U64: (n) => new BigUint64Array(n),
    U32: (n) => new Uint32Array(n),
    U16: (n) => new Uint16Array(n),
    U8: (n) => new Uint8Array(n),
    BOOL: (n) => new Uint8Array(n),
  };
  return arrays[dtype](length);
}

/** A zero tensor. */
export function zeros<D extends DType>(dtype: D, shape: readonly number[]): HostTensor<D> {
  assertShape(shape);
  return { dtype, shape: [...shape], data: allocData(dtype, elementCount(shape)) };
}

/** Builds a tensor, checking that the data length matches the shape. */
export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: DTypeArrays[D]): HostTensor<D> {
  assertShape(shape);
  const n = elementCount(shape);
  if (data.length !== n) {
    throw new RangeError(`tensor of shape ${shapeToString(shape)} needs ${n} elements, got ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

/** An F32 tensor from a Float32Array (or plain numbers). */
export function f32(shape: readonly number[], data: Float32Array | readonly number[]): HostTensor<'F32'> {
  return tensor('F32', shape, data instanceof Float32Array ? data : Float32Array.from(data));
}

export function assertShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`bad shape ${shapeToString(shape)}: dimension ${d} is not a non-negative integer`);
    }
  }
}

// --- 16-bit float conversions (bit patterns <-> numbers) ---

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Rounds to nearest even, like numpy's float16 cast. */
export function numberToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

export function bf16BitsToNumber(b: number): number {
  u32Scratch[0] = b << 16;
  return f32Scratch[0];
}

/** Rounds to nearest even, like torch's bfloat16 cast. */
export function numberToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Element i as a JS number (64-bit integers may lose precision past 2^53). */
export function getNumber(t: HostTensor, i: number): number {
  const v = t.data[i];
  if (t.dtype === 'F16') return f16BitsToNumber(v as number);
  if (t.dtype === 'BF16') return bf16BitsToNumber(v as number);
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** The tensor's values as a Float32Array (the same array when it already is F32). */
export function toFloat32(t: HostTensor): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = getNumber(t, i);
  return out;
}

/** Converts any tensor to an F32 tensor (shares data when already F32). */
export function asF32(t: HostTensor): HostTensor<'F32'> {
  return { dtype: 'F32', shape: [...t.shape], data: toFloat32(t) };
}

/** Converts numbers into a tensor of `dtype` (rounding for 16-bit floats, truncating toward zero for ints). */
export function fromNumbers<D extends DType>(dtype: D, shape: readonly number[], values: ArrayLike<number>): HostTensor<D> {
  const t = zeros(dtype, shape);
  if (values.length !== t.data.length) {
    throw new RangeError(`tensor of shape ${shapeToString(shape)} needs ${t.data.length} elements, got ${values.length}`);
  }
  const data = t.data as TensorData;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dtype === 'F16') (data as Uint16Array)[i] = numberToF16Bits(v);
    else if (dtype === 'BF16') (data as Uint16Array)[i] = numberToBf16Bits(v);
    else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.trunc(v));
    else if (dtype === 'BOOL') (data as Uint8Array)[i] = v ? 1 : 0;
    else (data as Float64Array)[i] = v;
  }
  return t;
}

/** Converts a tensor to another dtype through numbers. */
export function cast<D extends DType>(t: HostTensor, dtype: D): HostTensor<D> {
  if (t.dtype === dtype) return t as HostTensor<D>;
  const values = new Float64Array(t.data.length);
  for (let i = 0; i < values.length; i++) values[i] = getNumber(t, i);
  return fromNumbers(dtype, t.shape, values);
}

/** The raw little-endian bytes of a tensor's data (a view, no copy). */
export function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
