// Transfer learning end to end through the real binary: pretrain LeNet-5 on Fashion-MNIST (10
// classes), then retrain only its head for 3 classes of Fashion-MNIST PNGs in an image folder,
// with the frozen trunk's activations cached on disk; the second run reuses the cache, the
// checkpoint holds the pretrained trunk bit for bit, and `cnnc eval` on the full model works.

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../runtime/checkpoint.ts';
import type { Dataset } from '../../runtime/data/dataset.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { BUNDLED_TRAIN_COUNT, loadData } from '../../runtime/data/spec.ts';
import { cnnc } from '../support/cli.ts';
import { writeFashionFolder } from './fashion-folder.ts';

const LENET = ['stdlib/lenet5.cnn', '--set', 'channels=1', '--backend', 'cpu'];
/** Trouser, Sneaker, Bag. */
const CLASSES = [1, 7, 8];
const TRUNK = ['conv_1.weight', 'conv_1.bias', 'conv_2.weight', 'conv_2.bias', 'dense_1.weight', 'dense_1.bias'];

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-transfer-'));
const pretrained = join(tmp, 'pretrained.safetensors');
const cacheDir = join(tmp, 'cache');

beforeAll(() => {
  const r = cnnc(['train', ...LENET, '--data', 'fashion-mnist-bundled', '--batch', '32', '--epochs', '1', '--limit', '640', '--optimizer', 'adam', '--lr', '0.002', '--out', pretrained]);
  expect(r.code, r.stderr).toBe(0);
  // Images the pretraining never saw: the bundled held-out examples.
  const all = loadData('fashion-mnist-bundled').test! as Dataset & { base: Dataset };
  expect(writeFashionFolder(join(tmp, 'train'), all.base, CLASSES, 80, BUNDLED_TRAIN_COUNT, 9000)).toBe(240);
  expect(writeFashionFolder(join(tmp, 'test'), all.base, CLASSES, 100, 9000, 10000)).toBeGreaterThan(250);
}, 60_000);

function transfer(out: string, cache = true): ReturnType<typeof cnnc> {
  return cnnc([
    'train', ...LENET, '--set', 'classes=3', '--data', `folder:${join(tmp, 'train')}@28x28x1`, '--weights', pretrained, '--freeze-until', 'relu_3',
    ...(cache ? ['--cache-trunk', cacheDir] : []), '--batch', '16', '--epochs', '2', '--optimizer', 'adam', '--lr', '0.003', '--out', out,
  ]);
}

const finalLoss = (stdout: string) => Number(/final training loss ([\d.]+)/.exec(stdout)?.[1]);

const bytes = (t: HostTensor | undefined) => Buffer.from(t!.data.buffer, t!.data.byteOffset, t!.data.byteLength);
const seconds = (stderr: string, what: string) => Number(new RegExp(`trunk cache: ${what} 240 train examples through relu_3 \\(120\\) in ([\\d.]+) s`).exec(stderr)?.[1]);

describe('cnnc train --cache-trunk', () => {
  it('caches the frozen trunk, trains the new head, reuses the cache, keeps the trunk bit for bit', () => {
    const out1 = join(tmp, 'head1.safetensors');
    const first = transfer(out1);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('not loaded, shape differs: dense_3.weight is [10, 84] in the file, [3, 84] in the model');
    expect(first.stderr).toContain('not loaded, shape differs: dense_3.bias is [10] in the file, [3] in the model');
    expect(first.stderr).toMatch(/training the 4 layer\(s\) after it/);
    const computed = seconds(first.stderr, 'computed');
    expect(computed).toBeGreaterThan(0);
    const files = readdirSync(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^relu_3-[0-9a-f]{16}\.safetensors$/)]);

    const out2 = join(tmp, 'head2.safetensors');
    const second = transfer(out2);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`trunk cache: reused 240 train examples through relu_3 (120) in`);
    expect(second.stderr).toContain(join(cacheDir, files[0]!));
    expect(seconds(second.stderr, 'reused')).toBeLessThan(computed);
    expect(readdirSync(cacheDir)).toEqual(files);

    const before = readSafetensorsFile(pretrained).tensors;
    const after = readSafetensorsFile(out2).tensors;
    for (const name of TRUNK) expect(bytes(after.get(name)).equals(bytes(before.get(name))), name).toBe(true);
    expect(after.get('dense_3.weight')!.shape).toEqual([3, 84]);
    // The head trained: its first layer left the pretrained values.
    expect(bytes(after.get('dense_2.weight')).equals(bytes(before.get('dense_2.weight')))).toBe(false);

    // Training the head on cached activations is training the model with its trunk frozen.
    const uncached = transfer(join(tmp, 'uncached.safetensors'), false);
    expect(uncached.code, uncached.stderr).toBe(0);
    expect(uncached.stderr).not.toContain('trunk cache');
    expect(finalLoss(second.stdout)).toBeCloseTo(finalLoss(uncached.stdout), 3);

    // The checkpoint is the whole model's: eval runs LeNet-5 on unseen images of the 3 classes.
    const e = cnnc(['eval', ...LENET, '--set', 'classes=3', '--weights', out2, '--data', `folder:${join(tmp, 'test')}@28x28x1`]);
    expect(e.code, e.stderr).toBe(0);
    expect(Number(/accuracy ([\d.]+)%/.exec(e.stdout)![1])).toBeGreaterThan(80);
  });

  it('needs --freeze-until and refuses augmentation', () => {
    const base = ['train', ...LENET, '--data', 'fashion-mnist-bundled', '--cache-trunk', cacheDir];
    expect(cnnc(base)).toMatchObject({ code: 2, stderr: expect.stringContaining('--cache-trunk needs --freeze-until LAYER') });
    expect(cnnc([...base, '--freeze-until', 'relu_3', '--augment', 'mirror'])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot be cached; drop --augment') });
  });
});
