// A multi-input bundle in a real browser: the triplet model (one encoder shared by anchor,
// positive and negative) is built with `cnnc build`, bundled for the browser and trained on
// WebGPU in headless chromium (createModel() with no device takes the page's adapter); each step's
// loss matches the CPU reference executor's for the same weights and batches.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBuild } from '../../cli/build.ts';
import { compileModel } from '../../compiler/program.ts';
import { Rng } from '../../runtime/data/random.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { bundleForBrowser, describeWithBrowser, launchBrowser, type BrowserBundle, type BrowserSession } from '../support/browser.ts';
import { writeFeedTasks } from '../train/feed-tasks.ts';
import { REPO } from './lenet-bundle.ts';
import type { FeedStepArgs, FeedStepReport } from './pages/feeds-step.ts';

const BATCH = 4;
const LR = 0.05;

describeWithBrowser('a triplet (three-input) bundle in chromium', () => {
  let dir: string;
  let model: string;
  let session: BrowserSession;
  let page: BrowserBundle;

  beforeAll(async () => {
    mkdirSync(join(REPO, 'tmp'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'tmp', 'cnnc-triplet-'));
    model = writeFeedTasks(join(dir, 'tasks')).find((t) => t.metric === 'triplet accuracy')!.model;
    const code = await runBuild([model, '--batch', String(BATCH), '--optimizer', 'sgd', '--lr', String(LR), '-o', join(dir, 'bundle')]);
    if (code !== 0) throw new Error(`cnnc build exited ${code}`);
    const entry = join(dir, 'bundle', 'page-entry.ts');
    writeFileSync(
      entry,
      `import createModel from './Siamese.ts';\nimport { runFeedSteps, type FeedStepArgs } from ${JSON.stringify(join(import.meta.dirname, 'pages/feeds-step.ts'))};\n` +
        'export default (args: FeedStepArgs) => runFeedSteps(createModel, args);\n',
    );
    [page, session] = await Promise.all([bundleForBrowser(entry, join(dir, 'www'), { name: 'page.js' }), launchBrowser()]);
  });

  afterAll(async () => {
    await session?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trains on named feeds with the CPU reference executor\'s losses', async () => {
    const graph = compileModel({ file: model }).graph!;
    const cpu = await createSession(graph, { batch: BATCH, optimizer: { kind: 'sgd', lr: LR }, backend: 'cpu', seed: 3 });
    const rng = Rng.seeded(17);
    const batches = Array.from({ length: 2 }, () => new Map(['anchor', 'positive', 'negative'].map((n) => [n, Float32Array.from({ length: BATCH * 64 }, () => rng.float())] as const)));
    const weights = Object.fromEntries([...(await cpu.saveState()).weights].map(([k, v]) => [k, Array.from(v)]));
    const cpuLosses: number[] = [];
    for (const b of batches) cpuLosses.push((await cpu.trainStep(b)).loss);
    cpu.dispose();
    const args: FeedStepArgs = { weights, batches: batches.map((b) => Object.fromEntries([...b].map(([k, v]) => [k, Array.from(v)]))) };
    const run = await session.runModule<FeedStepReport>(join(dir, 'www'), page.path, args, 120_000);
    // createModel() with no device took the page's adapter.
    expect(run.value.backend).toEqual({ kind: 'webgpu', threads: 1, description: "Siamese runs on WebGPU (the page's adapter)" });
    expect(run.console).toContain("info: Siamese runs on WebGPU (the page's adapter)");
    expect(run.value.losses).toHaveLength(2);
    run.value.losses.forEach((loss, i) => {
      expect(cpuLosses[i]!, 'a loss that is not zero, so the comparison means something').toBeGreaterThan(0.01);
      expect(Math.abs(loss - cpuLosses[i]!) / cpuLosses[i]!, `step ${i}: chromium ${loss}, CPU ${cpuLosses[i]}`).toBeLessThan(1e-4);
    });
    process.stdout.write(`triplet bundle in chromium (${run.value.adapter}): losses ${run.value.losses.map((l) => l.toFixed(6)).join(', ')}, CPU ${cpuLosses.map((l) => l.toFixed(6)).join(', ')}\n`);
  });
});
