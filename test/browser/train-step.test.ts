// The browser criterion ahead of the bundle: one LeNet-5 training step runs in a real
// chromium page on WebGPU (the repository's front end, IR and WebGPU executor, bundled from
// TypeScript) and gives the loss and updated weights that the CPU reference gives in Node.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { SEED_FEED } from '../../compiler/lower/lower.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import { bundleForBrowser, describeWithBrowser, launchBrowser, type BrowserBundle, type BrowserSession } from '../support/browser.ts';
import type { TrainStepArgs, TrainStepReport } from './pages/train-step.ts';

const REPO = resolve(import.meta.dirname, '../..');
const LENET = join(REPO, 'stdlib/lenet5.cnn');
const BATCH = 4;
const CLASSES = 10;
const OPTIMIZER: OptimizerConfig = { kind: 'adam', lr: 1e-2 };

/** Seeded uniform values in [-scale, scale), as float32. */
function uniform(count: number, seed: number, scale: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround((s / 2 ** 32) * 2 * scale - scale);
  });
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-6, Math.abs(b));
}

describeWithBrowser('a LeNet-5 training step in chromium', () => {
  let dir: string;
  let session: BrowserSession;
  let bundle: BrowserBundle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cnnc-browser-train-'));
    [bundle, session] = await Promise.all([bundleForBrowser(join(import.meta.dirname, 'pages/train-step.ts'), dir, { name: 'train-step.js' }), launchBrowser()]);
  });

  afterAll(async () => {
    await session?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the CPU reference loss and Adam update (batch 4)', async () => {
    const graph = compileModel({ file: LENET, model: 'LeNet5' }).graph!;
    const step = buildTrainStep(graph, BATCH, OPTIMIZER);
    const store: Record<string, number[]> = {};
    let seed = 1;
    for (const [name, shape] of step.persistent) {
      if (!step.optimizerState.has(name)) store[name] = uniform(size(shape), seed++, name.endsWith('.bias') ? 0.05 : 0.2);
    }
    const feeds: Record<string, number[]> = {};
    for (const [name, shape] of step.feeds) {
      if (name === 'labels') feeds[name] = Array.from({ length: size(shape) }, (_, i) => (i * 3) % CLASSES);
      else if (name === SEED_FEED) feeds[name] = [7];
      else feeds[name] = uniform(size(shape), 100 + seed++, 1);
    }
    const report = Object.keys(store).filter((n) => n.endsWith('.weight'));

    const cpuStore = new Map(Object.entries(store).map(([k, v]) => [k, Float32Array.from(v)]));
    resetOptimizerState(step, cpuStore);
    const t0 = performance.now();
    const cpu = runProgram(step.program, new Map(Object.entries(feeds).map(([k, v]) => [k, Float32Array.from(v)])), cpuStore);
    const cpuMs = performance.now() - t0;
    const cpuLoss = cpu.get('loss')![0]!;

    const args: TrainStepArgs = { file: 'lenet5.cnn', text: readFileSync(LENET, 'utf8'), model: 'LeNet5', batch: BATCH, optimizer: OPTIMIZER, feeds, store, report };
    const run = await session.runModule<TrainStepReport>(dir, bundle.path, args, 120_000);
    const page = run.value;
    expect(Number.isFinite(page.loss)).toBe(true);
    expect(relativeError(page.loss, cpuLoss)).toBeLessThan(1e-4);
    expect(report.length).toBe(5); // 2 conv + 3 dense layers
    let worstOverall = 0;
    for (const name of report) {
      const before = store[name]!;
      const gpu = page.updated[name]!;
      const reference = cpuStore.get(name)!;
      expect(gpu.length).toBe(reference.length);
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < gpu.length; i++) {
        worst = Math.max(worst, Math.abs(gpu[i]! - reference[i]!));
        if (gpu[i] !== before[i]) moved++;
      }
      // Adam's first step moves a weight by about lr (1e-2) whatever its gradient's size: a wrong
      // gradient sign shows as a difference of 2e-2, rounding as well under 1e-5.
      expect(worst, `${name}: largest difference from the CPU update`).toBeLessThan(1e-5);
      expect(moved, `${name}: weights the step changed`).toBeGreaterThan(0);
      worstOverall = Math.max(worstOverall, worst);
    }
    process.stdout.write(
      `browser train step: loss ${page.loss.toFixed(6)} (CPU ${cpuLoss.toFixed(6)}), weights within ${worstOverall.toExponential(1)} of the CPU's, ` +
        `${page.dispatches} dispatches; bundle ${bundle.bytes} B in ${bundle.ms.toFixed(0)} ms; page: compile ${page.ms.compile.toFixed(0)} ms, ` +
        `prepare ${page.ms.prepare.toFixed(0)} ms, step ${page.ms.step.toFixed(0)} ms; CPU reference step in Node ${cpuMs.toFixed(0)} ms\n`,
    );
  });
});
