// `import model from './lenet5.cnn'` with the bundler plugins' `bundle` option: the module carries
// the training bundle. esbuild and Vite builds of an app that imports it run in Node and train
// with the same losses as the module `cnnc build` writes; a model that cannot be bundled fails the
// build at the model's line.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build as viteBuild } from 'vite';
import { cnncEsbuild } from '../../plugins/esbuild.ts';
import { cnncVite } from '../../plugins/vite.ts';
import { cnnModuleSource } from '../../plugins/module-source.ts';
import type { BundledModel, ModelOptions } from '../../runtime/bundle/index.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { BATCH, buildLenet, fashionBatches, LENET, REPO, type BuiltBundle } from './lenet-bundle.ts';

interface WithModel {
  createModel(device: GPUDevice, options?: ModelOptions): Promise<BundledModel>;
}

const BUNDLE = { batch: BATCH, optimizer: { kind: 'adam', lr: 0.002 } } as const;

describe('cnnModuleSource with the bundle option', () => {
  it('refuses a model without a classification loss, at the model', () => {
    const text = 'model NoLoss() {\n  input image: 8 x 8 x 1\n  conv 2, 3x3\n}\n';
    const out = cnnModuleSource(join(REPO, 'tmp/noloss.cnn'), text, { readText: () => text, bundle: BUNDLE });
    expect(out.code).toBeUndefined();
    expect(out.errors.map((e) => [e.text, e.location.line, e.location.lineText])).toEqual([
      ['bundle: cannot compile the training bundle: model NoLoss declares no loss; a bundle trains its model (add e.g. `loss cross_entropy`)', 1, 'model NoLoss() {'],
    ]);
  });
});

await describeWithGpu('esbuild and Vite apps importing lenet5.cnn with the bundle', (gpu) => {
  let dir: string;
  let built: BuiltBundle;
  let app: WithModel & { default: WithModel & { name: string } };
  let viteApp: WithModel;

  beforeAll(async () => {
    mkdirSync(join(REPO, 'tmp'), { recursive: true });
    // Inside the repository, so that `cnnc/runtime` resolves to this checkout.
    dir = mkdtempSync(join(REPO, 'tmp', 'cnnc-plugin-'));
    writeFileSync(join(dir, 'app.ts'), `export * from ${JSON.stringify(LENET)};\nexport { default } from ${JSON.stringify(LENET)};\n`);
    const result = await build({
      entryPoints: [join(dir, 'app.ts')],
      outfile: join(dir, 'app.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      logLevel: 'silent',
      plugins: [cnncEsbuild({ overrides: { channels: 1 }, bundle: BUNDLE })],
    });
    expect(result.errors).toEqual([]);
    app = (await import(pathToFileURL(join(dir, 'app.mjs')).href)) as typeof app;
    await viteBuild({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: [cnncVite({ overrides: { channels: 1 }, bundle: BUNDLE })],
      build: { outDir: join(dir, 'dist'), minify: false, lib: { entry: join(dir, 'app.ts'), formats: ['es'], fileName: 'app' } },
    });
    const js = readdirSync(join(dir, 'dist')).filter((f) => /\.m?js$/.test(f));
    viteApp = (await import(pathToFileURL(join(dir, 'dist', js[0]!)).href)) as WithModel;
    built = await buildLenet();
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    built?.remove();
  });

  it('both train with the losses of the `cnnc build` module', async () => {
    expect(app.default.name).toBe('LeNet5');
    expect(app.default.createModel).toBe(app.createModel);
    const generated = (await import(built.module)) as WithModel;
    const fromPlugin = await app.createModel(gpu.device, { seed: 2 });
    const fromBuild = await generated.createModel(gpu.device, { seed: 2 });
    const fromVite = await viteApp.createModel(gpu.device, { seed: 2 });
    try {
      for (const b of fashionBatches(2)) {
        const [p, q, v] = [await fromPlugin.trainStep(b), await fromBuild.trainStep(b), await fromVite.trainStep(b)];
        expect(Number.isFinite(p)).toBe(true);
        expect(p).toBe(q);
        expect(v).toBe(q);
      }
    } finally {
      fromPlugin.dispose();
      fromBuild.dispose();
      fromVite.dispose();
    }
  });
});
