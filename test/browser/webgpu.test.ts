// End to end in a real browser: chromium (Debian's, through playwright-core) with WebGPU on
// SwiftShader runs compute shaders whose numbers must match the CPU, and runs the repository's
// front end, bundled from TypeScript by esbuild, with the same result as in Node.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { summarize } from '../../compiler/summary.ts';
import { cnncEsbuild } from '../../plugins/esbuild.ts';
import { bundleForBrowser, describeWithBrowser, launchBrowser, type BrowserBundle, type BrowserSession } from '../support/browser.ts';
import type { CheckArgs, CheckReport } from './pages/check-model.ts';
import type { ComputeArgs, ComputeReport } from './pages/compute.ts';
import type { ImportReport } from './pages/import-cnn.ts';

const REPO = resolve(import.meta.dirname, '../..');
const PAGES = join(import.meta.dirname, 'pages');

/** Deterministic values in [-1, 1) (a small LCG), so a failure reproduces. */
function values(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(s / 2 ** 31 - 1);
  });
}

function cpuMatmul(a: readonly number[], b: readonly number[], m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += a[r * k + i] * b[i * n + c];
      out.push(acc);
    }
  }
  return out;
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
}

describeWithBrowser('WebGPU in headless chromium', () => {
  let dir: string;
  let session: BrowserSession;
  const bundles: Record<string, BrowserBundle> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cnnc-browser-'));
    const [compute, check, imported] = await Promise.all([
      bundleForBrowser(join(PAGES, 'compute.ts'), dir, { name: 'compute.js' }),
      bundleForBrowser(join(PAGES, 'check-model.ts'), dir, { name: 'check-model.js' }),
      bundleForBrowser(join(PAGES, 'import-cnn.ts'), dir, { name: 'import-cnn.js', plugins: [cnncEsbuild()] }),
    ]);
    Object.assign(bundles, { compute, check, imported });
    session = await launchBrowser();
  });

  afterAll(async () => {
    await session?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a vector add and a 17x13 matrix product on the SwiftShader adapter, matching the CPU', async () => {
    const [m, k, n] = [17, 11, 13];
    const args: ComputeArgs = { x: values(1000, 1), y: values(1000, 2), a: values(m * k, 3), b: values(k * n, 4), m, k, n };
    const run = await session.runModule<ComputeReport>(dir, bundles.compute.path, args);
    const report = run.value;
    process.stdout.write(
      `browser WebGPU: adapter ${JSON.stringify(report.adapter)}, maxComputeInvocationsPerWorkgroup ${report.maxComputeInvocationsPerWorkgroup}, ` +
        `features ${report.features.length}; launch ${session.launchMs.toFixed(0)} ms, bundle ${bundles.compute.ms.toFixed(0)} ms ` +
        `(${bundles.compute.bytes} B), page ${run.ms.toFixed(0)} ms (device ${report.ms.device.toFixed(1)}, add ${report.ms.add.toFixed(1)}, ` +
        `matmul ${report.ms.matmul.toFixed(1)} ms)\n`,
    );
    expect(report.adapter.architecture).toBe('swiftshader');
    const cpuSum = args.x.map((v, i) => Math.fround(v + args.y[i]));
    expect(maxAbsDiff(report.sum, cpuSum)).toBe(0); // one f32 add rounds the same everywhere
    expect(maxAbsDiff(report.product, cpuMatmul(args.a, args.b, m, k, n))).toBeLessThan(1e-5);
  });

  it('a bundled repository module (grammar + checker + summary) checks LeNet-5 as Node does', async () => {
    const file = join(REPO, 'stdlib/lenet5.cnn');
    const args: CheckArgs = { file: 'lenet5.cnn', text: readFileSync(file, 'utf8'), model: 'LeNet5' };
    const run = await session.runModule<CheckReport>(dir, bundles.check.path, args);
    process.stdout.write(`browser front end: bundle ${bundles.check.bytes} B in ${bundles.check.ms.toFixed(0)} ms; LeNet-5 checked in ${run.value.ms.toFixed(1)} ms in the page\n`);
    expect(run.value.diagnostics).toEqual([]);
    const node = compileModel({ file, model: 'LeNet5' });
    expect(run.value.summary?.totals).toEqual(summarize(node.graph!).totals);
    expect(run.value.summary?.totals.params).toBe(62_006);
    expect(run.value.summary?.layers.map((l) => l.name)).toEqual(node.graph!.layers.map((l) => l.name));
  });

  it('a page bundled with the cnnc esbuild plugin imports stdlib/lenet5.cnn as a module', async () => {
    const run = await session.runModule<ImportReport>(dir, bundles.imported.path);
    const node = compileModel({ file: join(REPO, 'stdlib/lenet5.cnn') });
    expect(run.value).toEqual({ name: 'LeNet5', params: 62_006, layers: node.graph!.layers.map((l) => l.name) });
    // The page bundle holds the compiled model, not the compiler.
    expect(bundles.imported.bytes).toBeLessThan(bundles.check.bytes / 10);
  });

  it('a module that throws in the page fails with its message and the page console', async () => {
    const run = session.runModule(dir, bundles.check.path, { file: 'x.cnn', text: 'model A() {\n  input x: 4\n}\n', model: 'Missing' });
    await expect(run).rejects.toThrow(/no model 'Missing' in x\.cnn/);
    await expect(session.runModule(dir, 'nowhere.js')).rejects.toThrow(/nowhere\.js[\s\S]*404/);
  });
});
