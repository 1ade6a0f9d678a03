// Bundles without WebGPU, in Node: the generated module's createModel with no device runs on the
// wasm back end (runtime/wasm/, what `--backend wasm` runs), on worker threads or one thread, and
// says so. Training steps of LeNet-5 and of the three-input triplet model give the CPU reference
// executor's losses (relative difference < 1e-5) from the same weights and batches; the triplet
// bundle's predict names its outputs a, p, n as the model file does.

import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../../cli/build.ts';
import { namedOutputs } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import { Rng } from '../../runtime/data/random.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import type { BundledModel, ModelOptions } from '../../runtime/bundle/index.ts';
import { writeFeedTasks } from '../train/feed-tasks.ts';
import { BATCH, buildLenet, fashionBatches, LENET, REPO, type BuiltBundle } from './lenet-bundle.ts';

interface Generated {
  createModel(device?: GPUDevice | null, options?: ModelOptions): Promise<BundledModel>;
}

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-6, Math.abs(b));

describe('bundles on the wasm back end in Node', () => {
  let lenet: BuiltBundle;
  let tripletDir: string;
  let tripletModel: string;

  beforeAll(async () => {
    tripletDir = mkdtempSync(join(REPO, 'tmp', 'cnnc-triplet-wasm-'));
    tripletModel = writeFeedTasks(join(tripletDir, 'tasks')).find((t) => t.metric === 'triplet accuracy')!.model;
    const [built, code] = await Promise.all([buildLenet(), runBuild([tripletModel, '--batch', '4', '--optimizer', 'sgd', '--lr', '0.05', '-o', join(tripletDir, 'bundle')])]);
    lenet = built;
    if (code !== 0) throw new Error(`cnnc build exited ${code}`);
  });
  afterAll(() => {
    lenet?.remove();
    if (tripletDir) rmSync(tripletDir, { recursive: true, force: true });
  });

  for (const threads of [2, 1]) {
    it(`trains LeNet-5 without a device on ${threads} thread(s) with the CPU reference's losses`, async () => {
      const { createModel } = (await import(lenet.module)) as Generated;
      const lines: string[] = [];
      const model = await createModel(undefined, { seed: 3, threads, log: (l) => lines.push(l) });
      try {
        expect(model.backend).toMatchObject({ kind: 'wasm', threads });
        expect(lines).toEqual([model.backend.description]);
        expect(lines[0]).toMatch(new RegExp(`^LeNet5 runs on wasm, ${threads} threads? \\(no WebGPU here\\)$`));
        const graph = compileModel({ file: LENET, overrides: { channels: 1 } }).graph!;
        const step = buildTrainStep(graph, BATCH, { kind: 'adam', lr: 0.002 });
        const store = new Map<string, Float32Array>(await model.getWeights());
        resetOptimizerState(step, store);
        for (const b of fashionBatches(2)) {
          const cpu = runProgram(step.program, new Map([['image', b.images], ['labels', Float32Array.from(b.labels)]]), store).get('loss')![0]!;
          const loss = await model.trainStep(b);
          expect(relative(loss, cpu), `wasm ${loss}, CPU ${cpu}`).toBeLessThan(1e-5);
        }
        // Evaluation runs a program of its own: it must see the trained weights.
        let worst = 0;
        for (const [name, w] of await model.getWeights()) w.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - store.get(name)![i]!))));
        expect(worst).toBeLessThan(1e-5);
        const probabilities = await model.predict(fashionBatches(1)[0]!.images.subarray(0, 3 * 1024));
        expect(probabilities).toHaveLength(30);
        for (let i = 0; i < 3; i++) expect(probabilities.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      } finally {
        model.dispose();
      }
    });
  }

  it('trains the triplet model (three inputs) on wasm with the CPU reference\'s losses', async () => {
    const { createModel } = (await import(join(tripletDir, 'bundle', 'Siamese.ts'))) as Generated;
    const graph = compileModel({ file: tripletModel }).graph!;
    const cpu = await createSession(graph, { batch: 4, optimizer: { kind: 'sgd', lr: 0.05 }, backend: 'cpu', seed: 3 });
    const rng = Rng.seeded(17);
    const batches = Array.from({ length: 2 }, () => new Map(['anchor', 'positive', 'negative'].map((n) => [n, Float32Array.from({ length: 4 * 64 }, () => rng.float())] as const)));
    const model = await createModel(null, { backend: 'wasm', log: false });
    try {
      model.setWeights((await cpu.saveState()).weights);
      for (const b of batches) {
        const expected = (await cpu.trainStep(b)).loss;
        const loss = await model.trainStep(Object.fromEntries(b));
        expect(expected, 'a loss that is not zero, so the comparison means something').toBeGreaterThan(0.01);
        expect(relative(loss, expected), `wasm ${loss}, CPU ${expected}`).toBeLessThan(1e-5);
      }
      // predict names each output as the model file does (`output a, p, n`), not by the encoder's last layer.
      const predicted = await model.predict(Object.fromEntries(batches[0]!));
      const reference = await cpu.predict(batches[0]!, 4);
      expect(Object.keys(predicted)).toEqual(['a', 'p', 'n']);
      for (const { name, tensor } of namedOutputs(graph)) {
        const want = reference.get(tensor)!;
        expect(Math.max(...predicted[name]!.map((v, i) => Math.abs(v - want[i]!))), name).toBeLessThan(1e-4);
      }
    } finally {
      model.dispose();
      cpu.dispose();
    }
  });

  it('refuses backend webgpu where there is none, and bad options, in one line each', async () => {
    const { createModel } = (await import(lenet.module)) as Generated;
    await expect(createModel(undefined, { backend: 'webgpu' })).rejects.toThrow(/^model LeNet5: backend 'webgpu' asked for, but there is no WebGPU here \(pass a GPUDevice, or backend 'auto' to fall back to wasm\)$/);
    await expect(createModel(undefined, { threads: 1.5 })).rejects.toThrow(/^model LeNet5: threads must be a positive integer, got 1.5$/);
  });
});
