// The file readers on mutated bytes: safetensors, checkpoints, IDX (plain and gzip), PNG and JPEG.
// Each either reads the file or throws its own user-facing error naming the file: never a
// TypeError, RangeError or a decoder's internal message, and never a hang (issue 13).

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../runtime/checkpoint.ts';
import { DataError } from '../../runtime/data/dataset.ts';
import { decodeImage } from '../../runtime/data/image.ts';
import { maybeGunzip, parseIdx } from '../../runtime/data/idx.ts';
import { readSafetensorsWithMetadata, SafetensorsError, writeSafetensors } from '../../runtime/safetensors.ts';
import { bounded, runs, TEST_TIMEOUT_MS } from './budget.ts';

/** Byte-level mutations: flips, overwrites with boundary values, truncation, insertion. */
const mutation = fc.array(
  fc.record({ kind: fc.constantFrom('set', 'truncate', 'insert', 'flip'), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x30, 0x7b, 0x22) }),
  { minLength: 1, maxLength: 6 },
);

function mutate(bytes: Uint8Array, edits: readonly { kind: string; at: number; value: number }[]): Uint8Array {
  let out = Uint8Array.from(bytes);
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'set') out[at] = e.value;
    else if (e.kind === 'flip') out[at] ^= 1 << (e.value % 8);
    else if (e.kind === 'truncate') out = out.subarray(0, at);
    else out = Uint8Array.from([...out.subarray(0, at), e.value, ...out.subarray(at)]);
  }
  return out;
}

/** Runs a reader on mutated bytes: success, or an error of one of the allowed classes naming the source. */
function survives(read: () => unknown, allowed: readonly (abstract new (...a: never[]) => Error)[], source: string): void {
  try {
    bounded('read', read);
  } catch (e) {
    if (!allowed.some((c) => e instanceof c)) throw e;
    expect((e as Error).message).toContain(source);
    expect((e as Error).message.split('\n')).toHaveLength(1);
  }
}

const f32 = (n: number) => ({ dtype: 'F32' as const, shape: [n], data: Float32Array.from({ length: n }, (_, i) => i / 3) });
const SAFETENSORS = writeSafetensors({ 'conv_1.weight': f32(12), 'conv_1.bias': f32(3) }, { format: 'pt' });
const CHECKPOINT = encodeCheckpoint({ weights: new Map([['d.weight', f32(4)]]), optimizer: new Map([['d.weight.m', f32(4)]]), position: { epoch: 1, step: 5, batchInEpoch: 2, rng: 'abc' }, info: { model: 'M' } });
const IDX = Uint8Array.from([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
const PNG = (() => {
  const png = new pngjs.PNG({ width: 4, height: 3 });
  png.data.fill(120);
  return new Uint8Array(pngjs.PNG.sync.write(png));
})();
const JPEG = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 90) }, 80).data);

describe('readers on mutated bytes', () => {
  it('safetensors', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(mutation, (m) => survives(() => readSafetensorsWithMetadata(mutate(SAFETENSORS, m), 'w.safetensors'), [SafetensorsError], 'w.safetensors')), { numRuns: runs(300) });
  });
  it('checkpoints', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(mutation, (m) => survives(() => decodeCheckpoint(mutate(CHECKPOINT, m), 'c.safetensors'), [CheckpointError], 'c.safetensors')), { numRuns: runs(300) });
  });
  it('IDX, plain and gzip', { timeout: TEST_TIMEOUT_MS }, () => {
    const gz = new Uint8Array(gzipSync(IDX));
    fc.assert(
      fc.property(mutation, fc.boolean(), (m, zipped) => survives(() => parseIdx(maybeGunzip(mutate(zipped ? gz : IDX, m), 'i.idx'), 'i.idx'), [DataError], 'i.idx')),
      { numRuns: runs(300) },
    );
  });
  it('PNG and JPEG', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(fc.property(mutation, fc.boolean(), (m, png) => survives(() => decodeImage(mutate(png ? PNG : JPEG, m), 'img'), [DataError], 'img')), { numRuns: runs(200) });
  });
  it('known formats that are not safetensors are named', () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => readSafetensorsWithMetadata(zip, 'model.pt')).toThrow(/model\.pt: invalid safetensors file: this is a zip archive \(a PyTorch \.pt\/\.pth file\?\), not safetensors; convert it/);
    const pickle = Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 0, 0]);
    expect(() => readSafetensorsWithMetadata(pickle, 'old.pt')).toThrow(/Python pickle/);
  });
  it('a safetensors header whose length starts like a pickle (0x80 0x04) is read as safetensors', () => {
    const header = JSON.stringify({ __metadata__: { note: 'x'.repeat(1152 - 32) } }).padEnd(1152, ' ');
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    expect([bytes[0], bytes[1]]).toEqual([0x80, 0x04]);
    expect(readSafetensorsWithMetadata(bytes, 'w.safetensors').metadata.note).toHaveLength(1152 - 32);
  });
  it('a truncated PNG says so in plain words', () => {
    expect(() => decodeImage(PNG.subarray(0, PNG.length - 20), 'cut.png')).toThrow('cut.png: cannot decode PNG image: the file is truncated or damaged');
  });
});
