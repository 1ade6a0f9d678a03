// The trunk cache computed on WebGPU (the backend a session trains on) holds the same activations
// as the CPU reference executor's, within float tolerance, for a spatial cut of LeNet-5.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { splitAt } from '../../compiler/graph-split.ts';
import { compileModel } from '../../compiler/program.ts';
import { subset } from '../../runtime/data/dataset.ts';
import { loadData } from '../../runtime/data/spec.ts';
import { initialWeights } from '../../runtime/init.ts';
import { cacheTrunk, type TrunkCacheOptions } from '../../runtime/train/trunk-cache.ts';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { describeWithGpu } from '../support/webgpu.ts';

await describeWithGpu('cacheTrunk on WebGPU', (gpu) => {
  it('matches the CPU reference executor', async () => {
    const lenet = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const images = subset(loadData('fashion-mnist-bundled').train, 0, 21);
    const options = (dir: string): TrunkCacheOptions => ({
      dir,
      trunk: splitAt(lenet, 'maxpool_2').trunk,
      weights: initialWeights(lenet, 5),
      data: { spec: 'fashion-mnist-bundled', part: 'train', fingerprint: '' },
      pipeline: { fit: { height: 32, width: 32 } },
      batch: 8,
    });
    const cpu = await cacheTrunk(images, options(mkdtempSync(join(tmpdir(), 'cnnc-trunk-'))));
    const onGpu = await cacheTrunk(images, { ...options(mkdtempSync(join(tmpdir(), 'cnnc-trunk-'))), executor: new WebGpuExecutor(gpu) });
    expect(onGpu.reused).toBe(false);
    const a = cpu.dataset.pixels;
    const b = onGpu.dataset.pixels;
    expect(b.length).toBe(21 * 16 * 5 * 5);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(a[i]!)));
    expect(worst).toBeLessThan(1e-4);
  });
});
