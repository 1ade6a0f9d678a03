// The pieces of named feeds: NumPy files as numpy itself wrote them (scripts/feeds_fixtures.py),
// image data seen as records giving the image pipeline's batches, stratified seeded samples and
// splits, pairs and triplets sampled per example, and binding a model's feeds to fields.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { pairRecords, tripletRecords } from '../../runtime/data/class-pairs.ts';
import { ArrayDataset } from '../../runtime/data/dataset.ts';
import { imageRecords } from '../../runtime/data/image-records.ts';
import { readNpyFile, readNpzFile } from '../../runtime/data/npy.ts';
import { BatchLoader } from '../../runtime/data/pipeline.ts';
import { Rng } from '../../runtime/data/random.ts';
import { RecordLoader } from '../../runtime/data/records.ts';
import { stratifiedSample, stratifiedSplit } from '../../runtime/data/stratify.ts';
import { tensorRecords } from '../../runtime/data/tensor-records.ts';
import { toFloat32 } from '../../runtime/tensor.ts';
import { modelFeeds } from '../../compiler/feeds.ts';
import { bindFeeds, feedsOf, FeedOptionError, parseFeedOverrides } from '../../runtime/train/bind-feeds.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/feeds');

describe('NumPy files', () => {
  it('reads every array of an .npz as numpy wrote it', () => {
    const arrays = readNpzFile(join(FIXTURES, 'sample.npz'));
    expect([...arrays.keys()].sort()).toEqual(['flags', 'half', 'wide', 'x', 'y']);
    const x = arrays.get('x')!;
    expect(x).toMatchObject({ dtype: 'F32', shape: [3, 4, 5, 2] });
    const v = x.data as Float32Array;
    for (const [n, h, w, c] of [[0, 0, 0, 0], [2, 3, 4, 1], [1, 2, 0, 1]] as const) {
      expect(v[((n * 4 + h) * 5 + w) * 2 + c]).toBe(Math.fround(n + h / 10 + w / 100 + c / 1000));
    }
    expect(arrays.get('y')).toMatchObject({ dtype: 'I64', shape: [3, 1] });
    expect([...toFloat32(arrays.get('half')!)]).toEqual([0.5, -2, 65504]);
    expect([...(arrays.get('flags')!.data as Uint8Array)]).toEqual([1, 0, 1]);
    expect([...toFloat32(arrays.get('wide')!)]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const records = tensorRecords(arrays, 'sample.npz');
    expect(records.fields.get('y')).toEqual({ shape: [1], dtype: 'i32', classes: 2 });
    expect(records.classOf!(1)).toBe(0);
  });

  it('reads a small .npy file on its own', () => {
    const labels = readNpyFile(join(FIXTURES, 'labels.npy'));
    expect(labels).toMatchObject({ dtype: 'I64', shape: [4] });
    expect([...(labels.data as BigInt64Array)]).toEqual([2n, 0n, 1n, 1n]);
  });

  it('refuses what it cannot read with the reason', () => {
    expect(() => readNpyFile(join(FIXTURES, 'big-endian.npy'))).toThrow(/big-endian arrays are not supported/);
    expect(() => readNpyFile(join(FIXTURES, 'fortran.npy'))).toThrow(/Fortran-ordered arrays are not supported/);
    expect(() => readNpyFile(join(FIXTURES, 'strings.npy'))).toThrow(/strings\.npy: NumPy dtype '<U3' is not supported \(use float32, /);
    expect(() => readNpyFile(join(FIXTURES, 'structured.npy'))).toThrow(/structured\.npy: structured NumPy arrays \(a dtype with named parts\) are not supported; save one array per field/);
    expect(() => readNpzFile(join(FIXTURES, 'fortran.npy'))).toThrow(/not a NumPy \.npz archive \(not a zip file\)/);
    expect(() => readNpzFile(join(FIXTURES, 'missing.npz'))).toThrow(/missing\.npz: cannot read: no such file/);
  });
});

function imageSet(n: number, classes: number): ArrayDataset {
  const rng = Rng.seeded(1);
  return new ArrayDataset(Float32Array.from({ length: n * 3 * 8 * 8 }, () => rng.float()), Int32Array.from({ length: n }, (_, i) => i % classes), [3, 8, 8]);
}

describe('records', () => {
  it('image data as records gives the image pipeline batches, augmentation included', () => {
    const ds = imageSet(20, 4);
    const augment = { mirror: true, crop: { height: 8, width: 8, padding: 1 } };
    const images = new BatchLoader(ds, { batchSize: 6, seed: 3, dropLast: true, augment });
    const records = new RecordLoader(imageRecords(ds, { augment }), { batchSize: 6, seed: 3, dropLast: true });
    for (let k = 0; k < 7; k++) {
      const a = images.next();
      const b = records.next();
      expect([...b.fields.get('images')!]).toEqual([...a.images]);
      expect([...b.fields.get('labels')!]).toEqual([...a.labels]);
    }
  });

  it('samples and splits each class in proportion, the same for the same seed', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : i < 90 ? 1 : 2));
    const classOf = (i: number) => labels[i]!;
    const sample = stratifiedSample(classOf, 100, 20, 5);
    expect(sample).toHaveLength(20);
    expect([0, 1, 2].map((c) => [...sample].filter((i) => labels[i] === c).length)).toEqual([14, 4, 2]);
    expect([...stratifiedSample(classOf, 100, 20, 5)]).toEqual([...sample]);
    expect([...stratifiedSample(classOf, 100, 20, 6)]).not.toEqual([...sample]);
    const { train, val } = stratifiedSplit(classOf, 100, 0.2, 5);
    expect(train.length + val.length).toBe(100);
    expect(new Set([...train, ...val]).size).toBe(100);
    expect([0, 1, 2].map((c) => [...val].filter((i) => labels[i] === c).length)).toEqual([14, 4, 2]);
  });

  it('draws triplets and pairs from the example\'s own generator', () => {
    const ds = imageSet(24, 3);
    const triplets = tripletRecords(ds, 'faces');
    const pixels = (i: number) => ds.get(i).image;
    const find = (img: Float32Array) => Array.from({ length: 24 }, (_, i) => i).find((i) => pixels(i).every((v, k) => v === img[k]))!;
    for (let i = 0; i < 24; i++) {
      const t = triplets.get(i, Rng.seeded(9, i));
      expect(find(t.get('anchor')!)).toBe(i);
      expect(find(t.get('positive')!) % 3).toBe(i % 3);
      expect(find(t.get('negative')!) % 3).not.toBe(i % 3);
      expect([...triplets.get(i, Rng.seeded(9, i)).get('negative')!]).toEqual([...t.get('negative')!]);
    }
    const pairs = pairRecords(ds, 'faces');
    const same = Array.from({ length: 24 }, (_, i) => pairs.get(i, Rng.seeded(4, i)));
    for (const [i, p] of same.entries()) expect(p.get('targets')![0]).toBe(find(p.get('second')!) % 3 === i % 3 ? 1 : 0);
    expect(same.filter((p) => p.get('targets')![0] === 1).length).toBeGreaterThan(4);
    expect(same.filter((p) => p.get('targets')![0] === 0).length).toBeGreaterThan(4);
  });
});

describe('binding feeds', () => {
  const graph = compileModel({ file: 'stdlib/localization.cnn', model: 'Landmarks' }).graph!;

  it('names every input and target with its shape', () => {
    expect(modelFeeds(graph).map((f) => [f.name, f.role, f.shape])).toEqual([
      ['image', 'input', [3, 64, 64]],
      ['targets', 'target', [1]],
      ['targets:landmarks', 'target', [128]],
    ]);
  });

  it('binds by name, by --feed, a sole input to images, and transposes channels-last fields', () => {
    const fields = new Map([
      ['photo', { shape: [64, 64, 3], dtype: 'f32' as const }],
      ['targets', { shape: [1], dtype: 'i32' as const, classes: 2 }],
      ['landmarks', { shape: [128], dtype: 'f32' as const }],
    ]);
    const bindings = bindFeeds(graph, fields, new Map([['image', 'photo']]), 'faces.npz');
    expect(bindings.map((b) => [b.feed.name, b.field, b.channelsLast])).toEqual([
      ['image', 'photo', true],
      ['targets', 'targets', false],
      ['targets:landmarks', 'landmarks', false],
    ]);
    // One example, channels last: value = (h * 64 + w) * 3 + c; channels first it reads c * 4096 + h * 64 + w.
    const photo = Float32Array.from({ length: 64 * 64 * 3 }, (_, i) => i);
    const feeds = feedsOf(bindings, { fields: new Map([['photo', photo], ['targets', new Float32Array(1)], ['landmarks', new Float32Array(128)]]), count: 1, indices: new Int32Array(1) });
    expect(feeds.get('image')![2 * 4096 + 5 * 64 + 7]).toBe((5 * 64 + 7) * 3 + 2);
    expect(() => bindFeeds(graph, fields, new Map(), 'faces.npz')).toThrow("faces.npz: no field for model Landmarks's input 'image' (64 x 64 x 3); the data has photo, targets, landmarks; name one with --feed image=FIELD");
    expect(() => bindFeeds(graph, fields, new Map([['imag', 'photo']]), 'faces.npz')).toThrow(/--feed imag=photo: model Landmarks has no input or loss target 'imag'/);
    // A --feed that names nothing is a usage error (exit 2), data that does not fit a data error (exit 1).
    expect(() => bindFeeds(graph, fields, new Map([['imag', 'photo']]), 'faces.npz')).toThrow(FeedOptionError);
    expect(() => parseFeedOverrides(['image'])).toThrow(new FeedOptionError("--feed expects INPUT=FIELD (e.g. --feed anchor=image_a), got 'image'"));
    const small = new Map([...fields, ['images', { shape: [3, 32, 32], dtype: 'f32' as const }]]);
    expect(() => bindFeeds(graph, small, new Map(), 'faces.npz')).toThrow(
      "faces.npz: field 'images' holds N x 3 x 32 x 32 (3 x 32 x 32 per example if channels last, 32 x 32 x 3 if channels first); model Landmarks's input 'image' is 64 x 64 x 3 per example (N x 3 x 64 x 64 channels first or N x 64 x 64 x 3 channels last)",
    );
    const short = new Map([...fields, ['images', { shape: [3, 64, 64], dtype: 'f32' as const }], ['landmarks', { shape: [100], dtype: 'f32' as const }]]);
    expect(() => bindFeeds(graph, short, new Map(), 'faces.npz')).toThrow("faces.npz: field 'landmarks' holds N x 100 (100 per example); model Landmarks's target 'targets:landmarks' of mse(landmarks) is 128 per example (N x 128)");
  });
});
