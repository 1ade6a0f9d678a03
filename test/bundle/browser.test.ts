// The same bundle in a real browser: the module `cnnc build` wrote is bundled by esbuild for the
// browser platform (which refuses node: imports) and run in headless chromium on WebGPU; its
// training steps give the losses the module gives in Node for the same weights and batches.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BundledModel, ModelOptions } from '../../runtime/bundle/index.ts';
import { acquireDevice } from '../../runtime/webgpu/device.ts';
import { bundleForBrowser, describeWithBrowser, launchBrowser, type BrowserBundle, type BrowserSession } from '../support/browser.ts';
import { buildLenet, fashionBatches, type BuiltBundle } from './lenet-bundle.ts';
import type { BundleStepArgs, BundleStepReport } from './pages/bundle-step.ts';

interface Generated {
  createModel(device: GPUDevice, options?: ModelOptions): Promise<BundledModel>;
}

describeWithBrowser('a LeNet-5 bundle in chromium', () => {
  let built: BuiltBundle;
  let session: BrowserSession;
  let page: BrowserBundle;

  beforeAll(async () => {
    built = await buildLenet();
    // The page's entry sits beside the generated module and imports it as a user's app would.
    const entry = join(built.dir, 'page-entry.ts');
    const helper = join(import.meta.dirname, 'pages/bundle-step.ts');
    writeFileSync(
      entry,
      `import createModel from './LeNet5.ts';\nimport { runBundleSteps, type BundleStepArgs } from ${JSON.stringify(helper)};\n` +
        'export default (args: BundleStepArgs) => runBundleSteps(createModel, args);\n',
    );
    [page, session] = await Promise.all([bundleForBrowser(entry, join(built.dir, 'www'), { name: 'page.js' }), launchBrowser()]);
  });

  afterAll(async () => {
    await session?.close();
    built?.remove();
  });

  it('gives the losses of Node for the same weights and batches', async () => {
    const batches = fashionBatches(2);
    const gpu = await acquireDevice();
    let nodeLosses: number[];
    let weights: Record<string, number[]>;
    try {
      const { createModel } = (await import(built.module)) as Generated;
      const model = await createModel(gpu.device, { seed: 11 });
      weights = Object.fromEntries([...(await model.getWeights())].map(([k, v]) => [k, Array.from(v)]));
      nodeLosses = [];
      for (const b of batches) nodeLosses.push(await model.trainStep(b));
      model.dispose();
    } finally {
      gpu.release();
    }
    const args: BundleStepArgs = { weights, batches: batches.map((b) => ({ images: Array.from(b.images), labels: b.labels })) };
    const run = await session.runModule<BundleStepReport>(join(built.dir, 'www'), page.path, args, 120_000);
    const { losses } = run.value;
    expect(losses).toHaveLength(2);
    losses.forEach((loss, i) => {
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - nodeLosses[i]!) / nodeLosses[i]!, `step ${i}: chromium ${loss}, Node ${nodeLosses[i]}`).toBeLessThan(1e-5);
    });
    process.stdout.write(
      `bundle in chromium (${run.value.adapter}): losses ${losses.map((l) => l.toFixed(6)).join(', ')}, Node ${nodeLosses.map((l) => l.toFixed(6)).join(', ')}; ` +
        `page bundle ${page.bytes} B, 2 steps in ${run.value.ms.toFixed(0)} ms\n`,
    );
  });
});
