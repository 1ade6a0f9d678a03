// A bundle in a page WITHOUT WebGPU: chromium started without its WebGPU flags (no adapter), the
// LeNet-5 module `cnnc build` wrote bundled for the browser (esbuild refuses node: imports), and
// createModel() with no device: it must pick the wasm back end, say so in one console line, and
// train steps with the CPU reference executor's losses (relative difference < 1e-5). Served
// plainly the page is not cross-origin isolated and runs on one thread; served with COOP/COEP it
// is, and splits the kernels over Web Workers.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import type { BundledModel, ModelOptions } from '../../runtime/bundle/index.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import { bundleForBrowser, describeWithBrowser, launchBrowser, type BrowserBundle, type BrowserSession } from '../support/browser.ts';
import { BATCH, buildLenet, fashionBatches, LENET, type BuiltBundle } from './lenet-bundle.ts';
import type { WasmStepArgs, WasmStepReport } from './pages/wasm-step.ts';

describeWithBrowser('a LeNet-5 bundle in chromium without WebGPU', () => {
  let built: BuiltBundle;
  let session: BrowserSession;
  let page: BrowserBundle;
  let args: WasmStepArgs;
  let cpuLosses: number[];

  beforeAll(async () => {
    built = await buildLenet();
    const entry = join(built.dir, 'page-entry.ts');
    writeFileSync(
      entry,
      `import createModel from './LeNet5.ts';\nimport { runWasmSteps, type WasmStepArgs } from ${JSON.stringify(join(import.meta.dirname, 'pages/wasm-step.ts'))};\n` +
        'export default (args: WasmStepArgs) => runWasmSteps(createModel, args);\n',
    );
    [page, session] = await Promise.all([bundleForBrowser(entry, join(built.dir, 'www'), { name: 'page.js' }), launchBrowser(30_000, { webgpu: false })]);
    // The CPU reference's losses for two steps from the bundle's seeded weights.
    const { createModel } = (await import(built.module)) as { createModel(device: null, options: ModelOptions): Promise<BundledModel> };
    const seeded = await createModel(null, { backend: 'wasm', threads: 1, seed: 7, log: false });
    const weights = await seeded.getWeights();
    seeded.dispose();
    const graph = compileModel({ file: LENET, overrides: { channels: 1 } }).graph!;
    const step = buildTrainStep(graph, BATCH, { kind: 'adam', lr: 0.002 });
    const store = new Map<string, Float32Array>(weights);
    resetOptimizerState(step, store);
    const batches = fashionBatches(2);
    cpuLosses = batches.map((b) => runProgram(step.program, new Map([['image', b.images], ['labels', Float32Array.from(b.labels)]]), store).get('loss')![0]!);
    args = {
      weights: Object.fromEntries([...weights].map(([k, v]) => [k, Array.from(v)])),
      batches: batches.map((b) => ({ image: Array.from(b.images), labels: b.labels })),
    };
  });

  afterAll(async () => {
    await session?.close();
    built?.remove();
  });

  const check = (report: WasmStepReport): void => {
    expect(report.webgpu.adapter, 'the page must have no WebGPU adapter').toBe(false);
    expect(report.backend.kind).toBe('wasm');
    expect(report.printed).toEqual([report.backend.description]);
    expect(report.losses).toHaveLength(2);
    report.losses.forEach((loss, i) => {
      expect(cpuLosses[i]!, 'a loss that is not zero, so the comparison means something').toBeGreaterThan(0.01);
      expect(Math.abs(loss - cpuLosses[i]!) / cpuLosses[i]!, `step ${i}: chromium wasm ${loss}, CPU ${cpuLosses[i]}`).toBeLessThan(1e-5);
    });
  };

  it('trains on one thread when the page is not cross-origin isolated, and says so', async () => {
    const run = await session.runModule<WasmStepReport>(join(built.dir, 'www'), page.path, args, 60_000);
    const report = run.value;
    expect(report.crossOriginIsolated).toBe(false);
    check(report);
    expect(report.backend.threads).toBe(1);
    expect(report.backend.description).toMatch(/^LeNet5 runs on wasm, 1 thread \(no WebGPU (here|adapter); the page is not cross-origin isolated, so no SharedArrayBuffer for threads\)$/);
    process.stdout.write(`no-WebGPU page: "${report.backend.description}"; losses ${report.losses.map((l) => l.toFixed(6)).join(', ')}, CPU ${cpuLosses.map((l) => l.toFixed(6)).join(', ')}; ${run.ms.toFixed(0)} ms\n`);
  });

  it('splits kernels over Web Workers when the page is cross-origin isolated', async () => {
    const run = await session.runModule<WasmStepReport>(join(built.dir, 'www'), page.path, args, 60_000, { crossOriginIsolated: true });
    const report = run.value;
    expect(report.crossOriginIsolated).toBe(true);
    check(report);
    expect(report.backend.threads).toBeGreaterThan(1);
    expect(report.backend.description).toMatch(new RegExp(`^LeNet5 runs on wasm, ${report.backend.threads} threads \\(no WebGPU (here|adapter)\\)$`));
    process.stdout.write(`cross-origin isolated no-WebGPU page: "${report.backend.description}"; losses ${report.losses.map((l) => l.toFixed(6)).join(', ')}; ${run.ms.toFixed(0)} ms\n`);
  });
});
