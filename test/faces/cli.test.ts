// embed, verify, recognize, eval on an encoder and triplet training through the command line
// (cli/main.ts in process, as `cnnc` runs it): answers, the encoding cache, and bad input ending
// in one error line with nothing written.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { compileModel } from '../../compiler/program.ts';
import { readSafetensorsFile, writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { DEFAULT_CACHE_NAME } from '../../runtime/faces/database.ts';
import { trainMetric } from '../../runtime/faces/metric-training.ts';
import { THRESHOLD_KEY } from '../../runtime/faces/threshold.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { f32 } from '../../runtime/tensor.ts';
import { FACE_MODELS, faceDataset, faceImage, writeFaceFolders, writeFacePng } from './generated.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cnnc(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let dir: string;
let model: string;
let weights: string;
const enc = () => [model, '--model', 'Encoder', '--weights', weights, '--backend', 'cpu'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cnnc-faces-cli-'));
  model = join(dir, 'faces.cnn');
  writeFileSync(model, FACE_MODELS);
  const graph = compileModel({ file: model, model: 'Triplet', overrides: {} }).graph!;
  const trained = await trainMetric(graph, faceDataset(0, 8, 12), cpuExecutor, {
    identities: 6,
    perIdentity: 4,
    mining: 'semi-hard',
    epochs: 8,
    stepsPerEpoch: 20,
    optimizer: { kind: 'adam', lr: 0.02 },
    seed: 0,
  });
  weights = join(dir, 'trained.safetensors');
  writeSafetensorsFile(weights, new Map([...trained.weights].map(([n, d]) => [n, f32([...trained.shapes.get(n)!], d)])));
  // Held-out identities 100.. for eval; a database of 101-103; queries of 101 and of 110 (absent).
  writeFaceFolders(join(dir, 'heldout'), Array.from({ length: 8 }, (_, i) => [`id${100 + i}`, 100 + i, 8, 0] as const));
  writeFaceFolders(join(dir, 'db'), [['alice', 101, 2, 20], ['bob', 102, 2, 20], ['carol', 103, 2, 20]]);
  writeFaceFolders(join(dir, 'queries'), [['alice', 101, 3, 30], ['nobody', 110, 3, 30]]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cnnc eval on an encoder', () => {
  it('reports accuracy, ROC AUC and TAR at FAR over held-out pairs and stores the threshold', async () => {
    const r = await cnnc('eval', ...enc(), '--data', `folder:${join(dir, 'heldout')}@8x8x1`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pairs: 224 of the same identity, 1,792 of different identities/);
    const auc = Number(/ROC AUC (\S+)/.exec(r.stdout)![1]);
    expect(auc).toBeGreaterThan(0.85);
    expect(r.stdout).toMatch(/TAR \S+% at FAR 0\.01/);
    expect(r.stdout).toMatch(/TAR \S+% at FAR 0\.001/);
    const threshold = Number(/distance <= (\S+)/.exec(r.stdout)![1]);
    const stored = JSON.parse(readSafetensorsFile(weights).metadata[THRESHOLD_KEY]) as { threshold: number };
    expect(stored.threshold).toBeCloseTo(threshold, 4);
  });

  it('refuses one image per identity when a threshold must be fitted, leaving the weights as they were', async () => {
    writeFaceFolders(join(dir, 'singles'), [['a', 200, 1, 0], ['b', 201, 1, 0], ['c', 202, 1, 0]]);
    const before = readFileSync(weights);
    const r = await cnnc('eval', ...enc(), '--data', `folder:${join(dir, 'singles')}@8x8x1`);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^cnnc eval: no two images share an identity/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // refused before anything is encoded
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(weights).equals(before)).toBe(true);
  });
});

describe('cnnc embed and verify', () => {
  it('writes one encoding per image with the file names, and verify measures the same distance', async () => {
    const out = join(dir, 'new-folder', 'enc.safetensors'); // the output's folder is created
    const r = await cnnc('embed', ...enc(), join(dir, 'queries'), '-o', out);
    expect(r.code).toBe(0);
    const file = readSafetensorsFile(out);
    const files = JSON.parse(file.metadata.files) as string[];
    expect(files).toHaveLength(6);
    expect(files[0]).toMatch(/queries\/alice\/30\.png$/);
    const t = file.tensors.get('encodings')!;
    expect(t.shape).toEqual([6, 8]);
    const rows = t.data as Float32Array;
    let d = 0;
    for (let k = 0; k < 8; k++) d += (rows[k] - rows[3 * 8 + k]) ** 2;
    const v = await cnnc('verify', ...enc(), files[0], files[3]);
    expect(v.code).toBe(0);
    expect(Number(/distance (\S+),/.exec(v.stdout)![1])).toBeCloseTo(Math.sqrt(d), 3);
    // Without --threshold, the one cnnc eval stored in the weights (the eval test above ran first).
    expect(v.stdout).toMatch(/threshold \S+ \(fitted by cnnc eval on folder:.*heldout@8x8x1\): (same identity|different identities)$/m);
    const same = await cnnc('verify', ...enc(), files[0], files[1], '--threshold', '100');
    expect(same.stdout).toMatch(/same identity$/m);
    const different = await cnnc('verify', ...enc(), files[0], files[1], '--threshold', '0');
    expect(different.stdout).toMatch(/different identities$/m);
  });

  it('names every missing or misshaped tensor and writes nothing', async () => {
    const bad = join(dir, 'bad.safetensors');
    const w = readSafetensorsFile(weights).tensors;
    w.delete('encoder.dense_1.bias');
    w.set('encoder.dense_1.weight', f32([4, 64], new Float32Array(256)));
    writeSafetensorsFile(bad, w);
    const out = join(dir, 'never.safetensors');
    const r = await cnnc('embed', model, '--model', 'Encoder', '--weights', bad, '--backend', 'cpu', join(dir, 'queries'), '-o', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.safetensors does not fit model Encoder's encoding encoder\.l2_normalize_1: /);
    expect(r.stderr).toMatch(/missing encoder\.dense_1\.bias \[8\]/);
    expect(r.stderr).toMatch(/encoder\.dense_1\.weight is \[4, 64\] in the file, the model expects \[8, 64\]/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('cnnc recognize', () => {
  it('finds a known identity and answers "not in the database" for an absent one', async () => {
    const r = await cnnc('recognize', ...enc(), '--db', join(dir, 'db'), join(dir, 'queries'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /queries\/alice\/.*: alice \(distance/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => /queries\/nobody\/.*: not in the database \(nearest/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(r.stderr).toMatch(/threshold \S+ \(fitted by cnnc eval/);
  });

  it('caches the database encodings and encodes again only a changed image', async () => {
    const db = join(dir, 'db');
    const query = join(dir, 'queries', 'alice', '30.png');
    const first = await cnnc('recognize', ...enc(), '--db', db, query);
    expect(first.stderr).toMatch(/6 encodings from the cache, 0 computed/);
    // bob's image replaced by one of alice: its row is encoded again, and it now matches alice's query best.
    writeFacePng(join(db, 'bob', '20.png'), faceImage(101, 30));
    const changed = await cnnc('recognize', ...enc(), '--db', db, query);
    expect(changed.stderr).toMatch(/5 encodings from the cache, 1 computed/);
    expect(changed.stdout).toMatch(/: bob \(distance 0\.0000\)/);
    const again = await cnnc('recognize', ...enc(), '--db', db, query);
    expect(again.stderr).toMatch(/6 encodings from the cache, 0 computed/);
    // Other weights: everything is encoded again.
    const other = join(dir, 'other.safetensors');
    const w = readSafetensorsFile(weights).tensors;
    (w.get('encoder.dense_1.bias')!.data as Float32Array)[0] += 0.5;
    writeSafetensorsFile(other, w);
    const reweighted = await cnnc('recognize', model, '--model', 'Encoder', '--weights', other, '--backend', 'cpu', '--db', db, query, '--threshold', '0.5');
    expect(reweighted.stderr).toMatch(/0 encodings from the cache, 6 computed/);
  });

  it('ends bad input in one line and writes no cache: a non-image, an empty identity folder', async () => {
    const db = join(dir, 'baddb');
    writeFaceFolders(db, [['alice', 101, 1, 0]]);
    writeFileSync(join(db, 'alice', 'notes.png'), 'not an image');
    const query = join(dir, 'queries', 'alice', '30.png');
    const r = await cnnc('recognize', ...enc(), '--db', db, query);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^cnnc recognize: .*notes\.png: not a PNG or JPEG image/);
    expect(existsSync(join(db, DEFAULT_CACHE_NAME))).toBe(false);
    rmSync(join(db, 'alice', 'notes.png'));
    writeFaceFolders(db, [['empty', 0, 0, 0]]);
    const e = await cnnc('recognize', ...enc(), '--db', db, query);
    expect(e.code).not.toBe(0);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/baddb\/empty: identity folder 'empty' has no \.png, \.jpg or \.jpeg images/);
    expect(existsSync(join(db, DEFAULT_CACHE_NAME))).toBe(false);
    const q = await cnnc('verify', ...enc(), query, join(dir, 'faces.cnn'));
    expect(q.stderr.trim()).toMatch(/^cnnc verify: .*faces\.cnn: not a PNG or JPEG image/);
    const never = join(dir, 'never-embedded.safetensors');
    const m = await cnnc('embed', ...enc(), query, join(dir, 'faces.cnn'), '-o', never);
    expect([m.code, m.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(m.stderr).toMatch(/faces\.cnn: not a PNG or JPEG image/);
    expect(existsSync(never)).toBe(false);
    const t = await cnnc('verify', ...enc(), query, query, '--threshold', 'near');
    expect([t.code, t.stderr.trim()]).toEqual([2, "cnnc verify: --threshold expects a number >= 0, got 'near'"]);
  });
});

describe('cnnc train on a triplet model', () => {
  it('trains from identity folders with P x K batches, showing the fraction of active triplets', async () => {
    const out = join(dir, 'triplet.safetensors');
    const r = await cnnc('train', model, '--model', 'Triplet', '--data', `folder:${join(dir, 'heldout')}@8x8x1`, '--identities', '4', '--per-identity', '4', '--mining', 'batch-hard', '--epochs', '2', '--lr', '0.01', '--backend', 'cpu', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/4 identities x 4 images per batch, batch-hard triplets, margin 0\.2/);
    expect(r.stderr).toMatch(/epoch 2\/2: loss \S+, active triplets \d+\.\d%/);
    expect(readSafetensorsFile(out).tensors.has('encoder.dense_1.weight')).toBe(true);
    const more = await cnnc('train', model, '--model', 'Triplet', '--data', `folder:${join(dir, 'heldout')}@8x8x1`, '--identities', '4', '--per-identity', '4', '--mining', 'batch-hard', '--epochs', '3', '--lr', '0.01', '--backend', 'cpu', '--out', out, '--resume', out);
    expect(more.code).toBe(0);
    expect(more.stderr).toMatch(/resuming from .* after epoch 2 \(step 8\)/);
    expect(more.stderr).not.toMatch(/epoch 1\/3/);
    expect(more.stderr).toMatch(/epoch 3\/3: loss/);
    const bad = await cnnc('train', model, '--model', 'Triplet', '--data', `folder:${join(dir, 'heldout')}@8x8x1`, '--mining', 'hardest', '--backend', 'cpu', '--out', join(dir, 'never.safetensors'));
    expect(bad.stderr.trim()).toBe("cnnc train: --mining expects semi-hard, batch-hard, random, got 'hardest'");
    expect(existsSync(join(dir, 'never.safetensors'))).toBe(false);
  });
});
