// Shared by the bundle tests: builds LeNet-5 (one channel, batch 8, Adam) with `cnnc build` into a
// folder inside the repository (so the module's `cnnc/runtime` import resolves to this checkout
// through package.json's self-reference), and cuts real Fashion-MNIST batches padded to 32x32.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runBuild } from '../../cli/build.ts';
import { loadIdxDataset } from '../../runtime/data/idx.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const LENET = join(REPO, 'stdlib/lenet5.cnn');
export const BATCH = 8;
export const BUILD_ARGS = [LENET, '--set', 'channels=1', '--batch', String(BATCH), '--optimizer', 'adam', '--lr', '0.002'];

export interface BuiltBundle {
  readonly dir: string;
  readonly module: string;
  remove(): void;
}

/** Runs `cnnc build` on LeNet-5 into a fresh folder under the repository's ignored tmp/. */
export async function buildLenet(): Promise<BuiltBundle> {
  mkdirSync(join(REPO, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO, 'tmp', 'cnnc-bundle-'));
  const code = await runBuild([...BUILD_ARGS, '-o', dir]);
  if (code !== 0) throw new Error(`cnnc build exited ${code}`);
  return { dir, module: join(dir, 'LeNet5.ts'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface PlainBatch {
  readonly images: number[];
  readonly labels: number[];
}

/** `count` batches of Fashion-MNIST test images (the copy in data/), 28x28 centred in 32x32. */
export function fashionBatches(count: number): { images: Float32Array; labels: number[] }[] {
  const ds = loadIdxDataset(join(REPO, 'data/t10k-images-idx3-ubyte.gz'), join(REPO, 'data/t10k-labels-idx1-ubyte.gz'), 10);
  return Array.from({ length: count }, (_, b) => {
    const images = new Float32Array(BATCH * 32 * 32);
    const labels: number[] = [];
    for (let i = 0; i < BATCH; i++) {
      const ex = ds.get(b * BATCH + i);
      for (let y = 0; y < 28; y++) images.set(ex.image.subarray(y * 28, (y + 1) * 28), i * 1024 + (y + 2) * 32 + 2);
      labels.push(ex.label);
    }
    return { images, labels };
  });
}
