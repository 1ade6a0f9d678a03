import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pngjs from 'pngjs';
import { ImageFolderDataset } from '../../runtime/data/image-folder.ts';
import { loadCheckpoint, saveCheckpoint } from '../../runtime/checkpoint.ts';
import { Rng, RngStateError } from '../../runtime/data/random.ts';
import { ArrayDataset } from '../../runtime/data/dataset.ts';
import { BatchLoader, BatchPlanner, channelStats, evalBatches, tenCropBatch, type PipelineOptions } from '../../runtime/data/pipeline.ts';
import { tenCrop } from '../../runtime/data/augment.ts';
import { startPrefetch } from '../../runtime/data/worker-pool.ts';
import { loadData } from '../../runtime/data/spec.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** 10 tiny 1x2x2 images whose pixels encode their index, label = index % 3. */
function tiny(n = 10): ArrayDataset {
  const pixels = Float32Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4) + (i % 4) / 10);
  return new ArrayDataset(pixels, Int32Array.from({ length: n }, (_, i) => i % 3), [1, 2, 2]);
}

describe('Rng', () => {
  it('is deterministic, resumable from its state, and keyed streams differ', () => {
    const a = Rng.seeded(42);
    const first = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => Rng.seeded(42).nextU32())[0]).toBe(first[0]);
    const saved = a.state();
    const next = Array.from({ length: 100 }, () => a.nextU32());
    const b = Rng.fromState(saved);
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(next);
    expect(Rng.seeded(42, 1).nextU32()).not.toBe(Rng.seeded(42, 2).nextU32());
    expect(() => Rng.fromState('xoshiro128ss:00')).toThrow(RngStateError);
    expect(() => Rng.fromState('xoshiro128ss:' + '0'.repeat(32))).toThrow(/not all zero/);
  });

  it('draws roughly uniform ints and standard normals', () => {
    const r = Rng.seeded(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.05);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
    const p = r.permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('batching', () => {
  it('makes NCHW batches covering every example once per epoch, shuffled differently each epoch', () => {
    const ds = tiny();
    const loader = new BatchLoader(ds, { batchSize: 4, seed: 9 });
    expect(loader.planner.batchesPerEpoch).toBe(3);
    const epochs: number[][] = [[], []];
    for (let i = 0; i < 6; i++) {
      const b = loader.next();
      expect(b.shape).toEqual([b.indices.length, 1, 2, 2]);
      expect(b.job.epoch).toBe(Math.floor(i / 3));
      expect(b.job.lastInEpoch).toBe(i % 3 === 2);
      for (let j = 0; j < b.indices.length; j++) {
        expect(b.images[j * 4]).toBe(b.indices[j]);
        expect(b.labels[j]).toBe(b.indices[j] % 3);
      }
      epochs[b.job.epoch].push(...b.indices);
    }
    expect([...epochs[0]].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epochs[1]].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(new BatchLoader(ds, { batchSize: 4, dropLast: true }).planner.batchesPerEpoch).toBe(2);
    const ordered = new BatchLoader(ds, { batchSize: 4, shuffle: false }).next();
    expect(Array.from(ordered.indices)).toEqual([0, 1, 2, 3]);
  });

  it('resumes from a saved state on exactly the same next batch, mid-epoch and at epoch ends', () => {
    const ds = loadData('fashion-mnist-bundled').train;
    const options: PipelineOptions = { batchSize: 50, seed: 5, augment: { mirror: true, crop: { height: 28, width: 28, padding: 2 } } };
    for (const stop of [3, 4, 5, 9]) {
      const a = new BatchLoader(ds, options);
      for (let i = 0; i < stop; i++) a.next();
      const saved = JSON.parse(JSON.stringify(a.state()));
      const b = new BatchLoader(ds, options, saved);
      for (let i = 0; i < 3; i++) {
        const x = a.next();
        const y = b.next();
        expect(y.indices).toEqual(x.indices);
        expect(y.images).toEqual(x.images);
      }
    }
    const rng = new BatchPlanner(200, options).state().rng;
    expect(() => new BatchPlanner(200, options, { epoch: 0, batchInEpoch: 99, rng })).toThrow(/cannot resume at batch 99 of an epoch of 4 batches/);
    expect(() => new BatchPlanner(200, options, { epoch: 0, batchInEpoch: 0, rng: 'garbage' })).toThrow(/bad RNG state "garbage"/);
  });

  it('resumes through a checkpoint file: the position saved after step k gives batch k+1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-resume-'));
    try {
      const ds = loadData('fashion-mnist-bundled').test!;
      const options: PipelineOptions = { batchSize: 64, seed: 21, augment: { mirror: true, rotateDegrees: 5 } };
      const a = new BatchLoader(ds, options);
      for (let step = 1; step <= 40; step++) a.next(); // crosses the epoch end (32 batches per epoch)
      const path = join(dir, 'ckpt.safetensors');
      saveCheckpoint(path, { weights: new Map(), optimizer: new Map(), position: { ...a.state(), step: 40 }, info: {} });
      const { position } = loadCheckpoint(path);
      expect(position).toMatchObject({ epoch: 1, batchInEpoch: 8, step: 40 });
      const b = new BatchLoader(ds, options, position);
      const x = a.next();
      const y = b.next();
      expect(y.job.epoch).toBe(1);
      expect(y.indices).toEqual(x.indices);
      expect(y.images).toEqual(x.images);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('normalises per channel and evaluates every example in order', () => {
    const ds = tiny();
    const stats = channelStats(ds);
    expect(stats.mean[0]).toBeCloseTo(4.65, 5);
    const batches = [...evalBatches(ds, { batchSize: 4, normalize: stats })];
    expect(batches.map((b) => b.indices.length)).toEqual([4, 4, 2]);
    const all = batches.flatMap((b) => Array.from(b.images));
    const mean = all.reduce((a, b) => a + b) / all.length;
    const variance = all.reduce((a, b) => a + b * b, 0) / all.length - mean * mean;
    expect(mean).toBeCloseTo(0, 5);
    expect(variance).toBeCloseTo(1, 4);
    expect(() => new BatchLoader(ds, { batchSize: 0 })).toThrow(/batch size must be a positive integer, got 0/);
    expect(() => new BatchLoader(ds, { batchSize: 2, normalize: { mean: [0, 0], std: [1, 1] } })).toThrow(/needs 1 means/);
    expect(() => new BatchLoader(ds, { batchSize: 20, dropLast: true })).toThrow(/larger than the data set/);
  });

  it('makes a 10-crop test batch of one example', () => {
    const ds = loadData('fashion-mnist-bundled').test!;
    const b = tenCropBatch(ds, 3, { height: 28, width: 28 }, { fit: { height: 32, width: 32 }, normalize: { mean: [0.5], std: [0.5] } });
    expect(b.shape).toEqual([10, 1, 28, 28]);
    expect(Array.from(b.labels)).toEqual(new Array(10).fill(ds.get(3).label));
    const padded = new BatchLoader(ds, { batchSize: 1, shuffle: false, fit: { height: 32, width: 32 } });
    for (let i = 0; i < 3; i++) padded.next();
    const crops = tenCrop(padded.next().images, [1, 32, 32], 28, 28);
    expect(b.images.subarray(4 * 784, 5 * 784)).toEqual(crops[4].map((v) => (v - 0.5) / 0.5));
  });

  it('pads Fashion-MNIST to 32x32 for LeNet-5', () => {
    const ds = loadData('fashion-mnist-bundled').test!;
    const b = new BatchLoader(ds, { batchSize: 8, fit: { height: 32, width: 32 } }).next();
    expect(b.shape).toEqual([8, 1, 32, 32]);
    const first = ds.get(b.indices[0]).image;
    expect(b.images[2 * 32 + 2]).toBe(first[0]);
    expect(b.images[0]).toBe(0);
  });
});

describe('worker threads', () => {
  const options: PipelineOptions = {
    batchSize: 32,
    seed: 11,
    fit: { height: 32, width: 32 },
    augment: { mirror: true, rotateDegrees: 10, shear: 0.1, colorShift: 0.1, crop: { height: 28, width: 28, padding: 2 } },
    normalize: { mean: [0.3], std: [0.35] },
  };

  it('gives batches identical to the single-thread path (under vitest) and the same resumable state', async () => {
    const ds = loadData('fashion-mnist-bundled').train;
    const single = new BatchLoader(ds, options);
    const { loader, close } = startPrefetch(ds, options, 2);
    try {
      for (let i = 0; i < 8; i++) {
        const a = single.next();
        const b = await loader.next();
        expect(b.indices).toEqual(a.indices);
        expect(b.labels).toEqual(a.labels);
        expect(b.images).toEqual(a.images);
      }
      expect(loader.state()).toEqual(single.state());
    } finally {
      await close();
    }
  });

  it('reports a worker-side failure (a corrupt image) as a rejected batch naming the file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cnnc-pool-'));
    try {
      mkdirSync(join(root, 'a'));
      const png = new pngjs.PNG({ width: 4, height: 4 });
      png.data.fill(255);
      writeFileSync(join(root, 'a', 'good.png'), pngjs.PNG.sync.write(png));
      writeFileSync(join(root, 'a', 'z-bad.png'), pngjs.PNG.sync.write(png).subarray(0, 30));
      const ds = new ImageFolderDataset(root, { height: 4, width: 4, channels: 1 });
      const { loader, close } = startPrefetch(ds, { batchSize: 1, shuffle: false }, 1);
      try {
        await expect(loader.next()).resolves.toMatchObject({ shape: [1, 1, 4, 4] });
        await expect(loader.next()).rejects.toThrow(/z-bad\.png: cannot decode PNG image/);
      } finally {
        await close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('works under node bin/run-ts.js too', () => {
    const r = spawnSync(process.execPath, [join(repo, 'bin/run-ts.js'), join(repo, 'test/data/helpers/pool-check.ts')], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim()) as { same: boolean; state: { batchInEpoch: number } };
    expect(out.same).toBe(true);
    expect(out.state.batchInEpoch).toBe(6);
  });
});
