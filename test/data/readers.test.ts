import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { parseIdx, loadIdxDataset, IdxError } from '../../runtime/data/idx.ts';
import { ImageFolderDataset } from '../../runtime/data/image-folder.ts';
import { fitImage } from '../../runtime/data/image.ts';
import { loadSafetensorsDataset } from '../../runtime/data/safetensors-dataset.ts';
import { loadData, parseDataSpec, BUNDLED_DATA } from '../../runtime/data/spec.ts';
import { DataError } from '../../runtime/data/dataset.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { tensor } from '../../runtime/tensor.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function idxBytes(type: number, dims: number[], body: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('IDX', () => {
  it('reads the bundled Fashion-MNIST test set (gzipped)', () => {
    const ds = loadIdxDataset(join(BUNDLED_DATA, 't10k-images-idx3-ubyte.gz'), join(BUNDLED_DATA, 't10k-labels-idx1-ubyte.gz'), 10);
    expect(ds.length).toBe(10000);
    expect(ds.shape).toEqual([1, 28, 28]);
    expect(ds.classes).toBe(10);
    const counts = new Array(10).fill(0);
    for (const l of ds.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    const e = ds.get(0);
    expect(e.image.length).toBe(784);
    expect(Math.max(...e.image)).toBeLessThanOrEqual(1);
    expect(Math.max(...e.image)).toBeGreaterThan(0.5);
  });

  it('reads plain and gzipped files alike, and big-endian non-u8 types', () => {
    const pixels = Uint8Array.from({ length: 2 * 3 * 2 }, (_, i) => i * 20);
    const img = idxBytes(0x08, [2, 3, 2], pixels);
    const lab = idxBytes(0x08, [2], new Uint8Array([1, 0]));
    const a = loadIdxDataset(write('a-img', img), write('a-lab', lab));
    const b = loadIdxDataset(write('b-img.gz', gzipSync(img)), write('b-lab.gz', gzipSync(lab)));
    expect(a.get(1).image).toEqual(b.get(1).image);
    expect(a.get(1).image[0]).toBeCloseTo(120 / 255);
    expect(a.classes).toBe(2);
    const i32 = new Uint8Array(8);
    new DataView(i32.buffer).setInt32(0, -5, false);
    new DataView(i32.buffer).setInt32(4, 70000, false);
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], i32), 'x').data)).toEqual([-5, 70000]);
  });

  it('names the corrupt file and says what is wrong', () => {
    const good = idxBytes(0x08, [2, 2, 2], new Uint8Array(8));
    const labels = write('l', idxBytes(0x08, [2], new Uint8Array([0, 1])));
    const bad = (bytes: Uint8Array, re: RegExp) => {
      const p = write('bad-images', bytes);
      expect(() => loadIdxDataset(p, labels)).toThrow(IdxError);
      expect(() => loadIdxDataset(p, labels)).toThrow(new RegExp(`bad-images: invalid IDX file: .*${re.source}`));
    };
    bad(good.subarray(0, 3), /too short for the 4-byte magic/);
    bad(Uint8Array.from([1, 0, 8, 3]), /magic number starts with 0x01 0x00/);
    bad(Uint8Array.from([0, 0, 0x42, 3]), /unknown element type code 0x42/);
    bad(good.subarray(0, 10), /too short for 3 dimension sizes/);
    bad(good.subarray(0, good.length - 1), /need 24 bytes, but the file has 23 \(truncated\?\)/);
    bad(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /gzip data is corrupt/);
    const wrongCount = write('l3', idxBytes(0x08, [3], new Uint8Array(3)));
    expect(() => loadIdxDataset(write('ok-images', good), wrongCount)).toThrow(/ok-images has 2 images but .*l3 has 3 labels/);
    const badLabel = write('l-bad', idxBytes(0x08, [2], new Uint8Array([0, 12])));
    expect(() => loadIdxDataset(write('ok2', good), badLabel, 10)).toThrow(/l-bad: invalid IDX file: label 12 of example 1 is outside 0..9/);
    expect(() => loadIdxDataset(join(dir, 'missing'), labels)).toThrow(/missing: no such IDX file/);
  });
});

describe('image folders', () => {
  const root = join(dir, 'images');
  mkdirSync(join(root, 'cat'), { recursive: true });
  mkdirSync(join(root, 'dog'), { recursive: true });
  // cat: a 20x10 PNG, left half red, right half blue. dog: a 16x16 JPEG, all green.
  const png = new pngjs.PNG({ width: 20, height: 10 });
  for (let y = 0; y < 10; y++)
    for (let x = 0; x < 20; x++) {
      const at = (y * 20 + x) * 4;
      png.data[at] = x < 10 ? 255 : 0;
      png.data[at + 2] = x < 10 ? 0 : 255;
      png.data[at + 3] = 255;
    }
  writeFileSync(join(root, 'cat', 'a.png'), pngjs.PNG.sync.write(png));
  const green = new Uint8Array(16 * 16 * 4);
  for (let i = 0; i < 256; i++) green.set([0, 200, 0, 255], i * 4);
  writeFileSync(join(root, 'dog', 'b.jpg'), jpeg.encode({ width: 16, height: 16, data: green }, 95).data);
  writeFileSync(join(root, 'dog', 'notes.txt'), 'ignored');

  it('reads PNG and JPEG, one class per sub-folder, fitted to H x W x C', () => {
    const ds = new ImageFolderDataset(root, { height: 8, width: 8, channels: 3 });
    expect(ds.length).toBe(2);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.shape).toEqual([3, 8, 8]);
    const cat = ds.get(0);
    expect(cat.label).toBe(0);
    // Scaled to 16x8 and centre-cropped to 8x8: columns 0-3 red, 4-7 blue.
    expect(cat.image[0 * 64 + 0]).toBeCloseTo(1);
    expect(cat.image[2 * 64 + 0]).toBeCloseTo(0);
    expect(cat.image[0 * 64 + 7]).toBeCloseTo(0);
    expect(cat.image[2 * 64 + 7]).toBeCloseTo(1);
    const dog = ds.get(1);
    expect(dog.label).toBe(1);
    expect(dog.image[64 + 27]).toBeCloseTo(200 / 255, 1);
    const gray = new ImageFolderDataset(root, { height: 4, width: 4, channels: 1 }).get(1);
    expect(gray.image.length).toBe(16);
    expect(gray.image[5]).toBeCloseTo((0.587 * 200) / 255, 1);
  });

  it('averages when shrinking a lot: fine stripes become their mean, not aliased samples', () => {
    // Every third column white: 8x8 blocks hold 2 or 3 white columns, so every output is 0.25 to 0.375.
    const stripes = new Uint8Array(64 * 64 * 4);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) stripes.set([x % 3 === 0 ? 255 : 0, 0, 0, 255], (y * 64 + x) * 4);
    const out = fitImage({ width: 64, height: 64, data: stripes }, 8, 8, 3);
    for (let i = 0; i < 64; i++) {
      expect(out[i]).toBeGreaterThanOrEqual(0.245);
      expect(out[i]).toBeLessThanOrEqual(0.38);
    }
  });

  it('gives clear errors', () => {
    expect(() => new ImageFolderDataset(join(dir, 'nope'), { height: 8, width: 8, channels: 3 })).toThrow(/nope: no such folder/);
    mkdirSync(join(dir, 'empty-class', 'x'), { recursive: true });
    expect(() => new ImageFolderDataset(join(dir, 'empty-class'), { height: 8, width: 8, channels: 3 })).toThrow(/class folder 'x' has no .png/);
    mkdirSync(join(dir, 'broken', 'a'), { recursive: true });
    writeFileSync(join(dir, 'broken', 'a', 'x.png'), readFileSync(join(root, 'cat', 'a.png')).subarray(0, 40));
    writeFileSync(join(dir, 'broken', 'a', 'y.jpg'), 'not an image');
    const ds = new ImageFolderDataset(join(dir, 'broken'), { height: 8, width: 8, channels: 3 });
    expect(() => ds.get(0)).toThrow(/x\.png: cannot decode PNG image/);
    expect(() => ds.get(1)).toThrow(/y\.jpg: not a PNG or JPEG image/);
  });
});

describe('safetensors data sets', () => {
  it('reads images and labels', () => {
    const p = join(dir, 'set.safetensors');
    writeSafetensorsFile(p, {
      images: tensor('U8', [3, 1, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 10)),
      labels: tensor('I64', [3], new BigInt64Array([2n, 0n, 1n])),
    });
    const ds = loadSafetensorsDataset(p);
    expect(ds.length).toBe(3);
    expect(ds.shape).toEqual([1, 2, 2]);
    expect(ds.get(0).label).toBe(2);
    expect(ds.get(2).image[3]).toBeCloseTo(110 / 255);
  });
  it('says what is missing or mismatched', () => {
    const p = join(dir, 'bad.safetensors');
    writeSafetensorsFile(p, { pics: tensor('F32', [1, 2, 2], new Float32Array(4)) });
    expect(() => loadSafetensorsDataset(p)).toThrow(/no tensor named 'images' \(tensors: pics\)/);
    writeSafetensorsFile(p, { images: tensor('F32', [2, 2, 2], new Float32Array(8)), labels: tensor('I32', [3], new Int32Array(3)) });
    expect(() => loadSafetensorsDataset(p)).toThrow(/'labels' must have shape \[2\]/);
  });
});

describe('data specs', () => {
  it('parses every form', () => {
    expect(parseDataSpec('fashion-mnist')).toEqual({ kind: 'fashion-mnist' });
    expect(parseDataSpec('idx:a.gz,b.gz')).toEqual({ kind: 'idx', images: 'a.gz', labels: 'b.gz' });
    expect(parseDataSpec('folder:/x/y@64x48x1')).toEqual({ kind: 'folder', path: '/x/y', height: 64, width: 48, channels: 1 });
    expect(parseDataSpec('folder:/x/y')).toEqual({ kind: 'folder', path: '/x/y', height: 32, width: 32, channels: 3 });
    expect(parseDataSpec('safetensors:d.safetensors')).toEqual({ kind: 'safetensors', path: 'd.safetensors' });
    expect(() => parseDataSpec('cifar10')).toThrow(/unknown data spec 'cifar10': expected one of fashion-mnist/);
    expect(() => parseDataSpec('idx:onlyone')).toThrow(/idx needs two files/);
    expect(() => parseDataSpec('folder:x@8x8x2')).toThrow(/channels must be 1, 3 or 4/);
  });

  it('loads the bundled split and falls back to it when Debian files are absent', () => {
    const b = loadData('fashion-mnist-bundled');
    expect([b.train.length, b.test!.length]).toEqual([8000, 2000]);
    expect(b.train.classNames![9]).toBe('Ankle boot');
    const fallback = loadData('fashion-mnist', { debianFolder: join(dir, 'no-debian') });
    expect(fallback.train.length).toBe(8000);
    expect(fallback.description).toMatch(/no-debian not found/);
    expect(fallback.test!.get(0).image).toEqual(b.test!.get(0).image);
  });

  it('uses the full set from a Debian-style folder when all four files are there', () => {
    const folder = join(dir, 'debian');
    mkdirSync(folder);
    for (const [prefix, n] of [['train', 6], ['t10k', 4]] as const) {
      writeFileSync(join(folder, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idxBytes(0x08, [n, 28, 28], new Uint8Array(n * 784).fill(9))));
      writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(idxBytes(0x08, [n], Uint8Array.from({ length: n }, (_, i) => i))));
    }
    const d = loadData('fashion-mnist', { debianFolder: folder });
    expect([d.train.length, d.test!.length]).toEqual([6, 4]);
    expect(d.train.classes).toBe(10);
    expect(d.description).toMatch(/6 train, 4 test/);
  });

  it('loads the other specs and reports missing files', () => {
    expect(() => loadData('idx:/none/a,/none/b')).toThrow(/data spec 'idx:\/none\/a,\/none\/b': no such file or folder: \/none\/a/);
    expect(() => loadData('safetensors:/none/x.safetensors')).toThrow(/no such file or folder/);
    expect(loadData(`folder:${join(dir, 'images')}@8x8x3`).train.length).toBe(2);
    expect(loadData(`safetensors:${join(dir, 'set.safetensors')}`).train.length).toBe(3);
  });
});
