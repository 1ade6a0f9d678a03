import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import {
  readSafetensors,
  readSafetensorsWithMetadata,
  writeSafetensors,
  SafetensorsError,
} from '../../runtime/safetensors.ts';
import { f32, fromNumbers, getNumber, tensor, toFloat32, numberToF16Bits, f16BitsToNumber, numberToBf16Bits, type HostTensor } from '../../runtime/tensor.ts';

const fixture = fileURLToPath(new URL('./fixtures/numpy.safetensors', import.meta.url));

/** Builds a file from a raw header object and data bytes, bypassing the writer's checks. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    readSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  expect((caught as Error).message).toMatch(/^bad\.safetensors: invalid safetensors file: /);
  expect((caught as Error).message).toMatch(pattern);
}

describe('safetensors round trip', () => {
  it('writes and reads every dtype, scalars and empty tensors', () => {
    const tensors: Record<string, HostTensor> = {
      'conv.weight': f32([2, 1, 2, 2], [1, -2, 3.5, 4, 5, 6, 7, -8e-9]),
      d: tensor('F64', [2], new Float64Array([Math.PI, -1e-300])),
      h: fromNumbers('F16', [3], [1, -0.5, 0.1]),
      b: fromNumbers('BF16', [2], [3, -0.1]),
      i64: tensor('I64', [2], new BigInt64Array([-(2n ** 62n), 5n])),
      i32: tensor('I32', [3], new Int32Array([-1, 0, 2 ** 31 - 1])),
      u8: tensor('U8', [1, 3], new Uint8Array([0, 128, 255])),
      i8: tensor('I8', [2], new Int8Array([-128, 127])),
      flag: tensor('BOOL', [2], new Uint8Array([1, 0])),
      scalar: f32([], [42]),
      empty: f32([0, 4], []),
    };
    const bytes = writeSafetensors(tensors, { epoch: '3', note: 'hi' });
    // Header length is a multiple of 8 so the data section is aligned.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const { tensors: back, metadata } = readSafetensorsWithMetadata(bytes, 'rt.safetensors');
    expect(metadata).toEqual({ epoch: '3', note: 'hi' });
    expect([...back.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const r = back.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(r.data).toEqual(t.data);
      expect(r.data.constructor).toBe(t.data.constructor);
    }
  });

  it('accepts a Map, and copies data out of the file buffer', () => {
    const m = new Map<string, HostTensor>([['x', f32([2], [1, 2])]]);
    const bytes = writeSafetensors(m);
    const back = readSafetensors(bytes, 'm');
    bytes.fill(0);
    expect(Array.from(back.get('x')!.data as Float32Array)).toEqual([1, 2]);
  });

  it('reads from an unaligned view of a larger buffer', () => {
    const inner = writeSafetensors({ x: f32([3], [1.5, 2.5, 3.5]) });
    const big = new Uint8Array(inner.length + 3);
    big.set(inner, 1);
    const back = readSafetensors(big.subarray(1, 1 + inner.length), 'view');
    expect(Array.from(back.get('x')!.data as Float32Array)).toEqual([1.5, 2.5, 3.5]);
  });

  it('refuses to write inconsistent tensors', () => {
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/shape \[3\].*2 values/);
    expect(() => writeSafetensors({ x: { dtype: 'F64', shape: [2], data: new Float32Array(2) } as unknown as HostTensor })).toThrow(/dtype F64/);
    expect(() => writeSafetensors({ __metadata__: f32([1], [1]) })).toThrow(/__metadata__/);
  });
});

describe('property: every set of tensors round-trips', () => {
  it('holds for random names, shapes and dtypes', () => {
    const dtypeArb = fc.constantFrom('F32', 'F64', 'I32', 'U8', 'I8', 'F16', 'I64') as fc.Arbitrary<'F32' | 'F64' | 'I32' | 'U8' | 'I8' | 'F16' | 'I64'>;
    const tensorArb = fc
      .tuple(dtypeArb, fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.integer())
      .map(([dtype, shape, seed]) => fromNumbers(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((seed + i * 7) % 100) - 50)));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__' && k !== '__proto__'), tensorArb, { maxKeys: 6 }), (tensors) => {
        const back = readSafetensors(writeSafetensors(tensors), 'prop');
        expect(back.size).toBe(Object.keys(tensors).length);
        for (const [k, t] of Object.entries(tensors)) {
          expect(back.get(k)!.shape).toEqual(t.shape);
          expect(back.get(k)!.data).toEqual(t.data);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('numpy reads what we write', () => {
  it('gives the same values through an independent reader (/usr/bin/python3 + numpy)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-st-'));
    try {
      const path = join(dir, 'ours.safetensors');
      writeFileSync(
        path,
        writeSafetensors(
          { w: f32([2, 3], [1, 2, 3, 4, 5, -6.5]), n: tensor('I64', [2], new BigInt64Array([7n, -8n])), h: fromNumbers('F16', [2], [0.5, -2]) },
          { epoch: '4' },
        ),
      );
      const script = [
        'import json, struct, sys, numpy as np',
        'b = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); data = b[8 + n:]',
        'types = {"F32": "<f4", "I64": "<i8", "F16": "<f2"}',
        'out = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=types[v["dtype"]]).reshape(v["shape"]).tolist() for k, v in h.items() if k != "__metadata__"}',
        'out["meta"] = h["__metadata__"]',
        'print(json.dumps(out))',
      ].join('\n');
      const r = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ w: [[1, 2, 3], [4, 5, -6.5]], n: [7, -8], h: [0.5, -2], meta: { epoch: '4' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('16-bit floats', () => {
  it('round-trips f16 and bf16 bit patterns like numpy/torch', () => {
    expect(numberToF16Bits(1)).toBe(0x3c00);
    expect(numberToF16Bits(65504)).toBe(0x7bff);
    expect(numberToF16Bits(1e6)).toBe(0x7c00);
    expect(numberToF16Bits(0.1)).toBe(0x2e66);
    expect(f16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(numberToF16Bits(2 ** -24)).toBe(0x0001);
    expect(numberToBf16Bits(1)).toBe(0x3f80);
    expect(numberToBf16Bits(0.1)).toBe(0x3dcd);
    for (let h = 0; h < 0x7c00; h += 37) expect(numberToF16Bits(f16BitsToNumber(h))).toBe(h);
  });
});

describe('a file written by numpy/torch (scripts/make_safetensors_fixture.py)', () => {
  const { tensors, metadata } = readSafetensorsWithMetadata(readFileSync(fixture), fixture);

  it('has the metadata and all tensors', () => {
    expect(metadata).toEqual({ format: 'pt', writer: 'numpy' });
    expect(tensors.size).toBe(11);
  });

  it('has the values the script wrote', () => {
    const w = tensors.get('conv1.weight')!;
    expect(w.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(toFloat32(w))).toEqual(Array.from({ length: 24 }, (_, i) => (i - 12) * 0.25));
    expect(Array.from(toFloat32(tensors.get('conv1.bias')!))).toEqual([0.5, -1.5]);
    expect(Array.from(tensors.get('double')!.data as Float64Array)).toEqual([1 / 3, -2.5, 1e300]);
    const half = tensors.get('half')!;
    expect([0, 1, 2].map((i) => getNumber(half, i))).toEqual([1, -0.5, 65504]);
    expect(getNumber(half, 3)).toBeCloseTo(0.1, 3);
    const brain = tensors.get('brain')!;
    expect(brain.dtype).toBe('BF16');
    expect(getNumber(brain, 0)).toBe(1);
    expect(getNumber(brain, 1)).toBe(-3);
    expect(getNumber(brain, 2)).toBeCloseTo(0.1, 2);
    const step = tensors.get('step')!;
    expect(step.shape).toEqual([]);
    expect((step.data as BigInt64Array)[0]).toBe(123456789012n);
    expect(Array.from(tensors.get('labels')!.data as Int32Array)).toEqual([0, 9, -1, 2147483647, 7]);
    expect(Array.from(tensors.get('pixels')!.data as Uint8Array)).toEqual([0, 255, 128, 7]);
    expect(Array.from(tensors.get('signed')!.data as Int8Array)).toEqual([-128, 127]);
    expect(Array.from(tensors.get('mask')!.data as Uint8Array)).toEqual([1, 0, 1]);
    expect(tensors.get('empty')!.shape).toEqual([0, 3]);
  });

  it('rewrites to a file that reads back identically', () => {
    const again = readSafetensorsWithMetadata(writeSafetensors(tensors, metadata), 'again');
    expect(again.metadata).toEqual(metadata);
    for (const [k, t] of tensors) expect(again.tensors.get(k)!.data).toEqual(t.data);
  });
});

describe('corrupt files give a SafetensorsError naming the file and the problem', () => {
  const good = writeSafetensors({ a: f32([2], [1, 2]), b: f32([1], [3]) });
  const data12 = new Uint8Array(12);

  it('too short for the length', () => expectError(new Uint8Array(5), /5 bytes, too short/));
  it('truncated file', () => expectError(good.subarray(0, good.length - 3), /truncated/));
  it('truncated inside the header', () => expectError(good.subarray(0, 20), /runs past the end of the file/));
  it('huge header length', () => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
    expectError(b, /exceeds the limit/);
  });
  it('header length past the end', () => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(0, BigInt(good.length), true);
    expectError(b, /runs past the end/);
  });
  it('trailing bytes after the data', () => {
    const b = new Uint8Array(good.length + 4);
    b.set(good);
    expectError(b, /trailing bytes/);
  });
  it('bad JSON', () => expectError(rawFile(null, data12, '{"a": {"dtype": "F32",'), /not valid JSON/));
  it('not an object', () => expectError(rawFile(null, data12, '[1, 2]'), /does not start with '\{'/));
  it('bad UTF-8', () => {
    const b = rawFile(null, new Uint8Array(0), '{"a":1}');
    b[10] = 0xff;
    expectError(b, /UTF-8/);
  });
  it('unknown dtype', () => expectError(rawFile({ a: { dtype: 'F128', shape: [3], data_offsets: [0, 12] } }, data12), /'a' has unknown dtype "F128"/));
  it('bad shape', () => expectError(rawFile({ a: { dtype: 'F32', shape: [3, -1], data_offsets: [0, 12] } }, data12), /'a' has bad shape \[3,-1\]/));
  it('missing offsets', () => expectError(rawFile({ a: { dtype: 'F32', shape: [3] } }, data12), /'a' has bad data_offsets/));
  it('end before begin', () => expectError(rawFile({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data12), /end before begin/));
  it('offsets out of range', () => expectError(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data12), /run past the data section of 12 bytes/));
  it('wrong byte count for the shape', () => expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }, data12), /needs 8 bytes but data_offsets \[0, 12\] span 12/));
  it('overlapping tensors', () =>
    expectError(
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data12),
      /'b' \[4, 12\) overlaps tensor 'a'/,
    ));
  it('a gap between tensors', () =>
    expectError(
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data12),
      /gap of 4 bytes before tensor 'b'/,
    ));
  it('non-string metadata', () => expectError(rawFile({ __metadata__: { epoch: 3 } }, new Uint8Array(0)), /__metadata__\.epoch must be a string/));
  it('entry not an object', () => expectError(rawFile({ a: 5 }, new Uint8Array(0)), /entry 'a' is not an object/));

  it('never throws anything but SafetensorsError on random corruption', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 2000; trial++) {
      const b = good.slice(0, Math.floor(rand() * (good.length + 1)));
      for (let k = 0; k < 3; k++) if (b.length) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        readSafetensors(b, 'fuzz');
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
      }
    }
  });
});
