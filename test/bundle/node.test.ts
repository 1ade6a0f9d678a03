// The bundle in Node: `cnnc build` LeNet-5, import the generated module, create the model on a
// real (software) WebGPU device and train it on Fashion-MNIST. Every step's loss must equal the
// CPU reference executor's for the same weights and batch; training must lower the loss; weights
// round-trip through safetensors.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import type { BundledModel, ModelOptions } from '../../runtime/bundle/index.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { BATCH, buildLenet, fashionBatches, LENET, type BuiltBundle } from './lenet-bundle.ts';

/** What the generated module exports (its own types are checked by tsc in build.test.ts). */
interface Generated {
  readonly BATCH: number;
  readonly IMAGE_SHAPE: readonly number[];
  readonly CLASSES: number;
  createModel(device: GPUDevice, options?: ModelOptions): Promise<BundledModel>;
}

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-6, Math.abs(b));

await describeWithGpu('a LeNet-5 bundle imported in Node', (gpu) => {
  let built: BuiltBundle;
  let bundle: Generated;

  beforeAll(async () => {
    built = await buildLenet();
    bundle = (await import(built.module)) as Generated;
  });
  afterAll(() => built?.remove());

  it('trains on Fashion-MNIST with the CPU reference loss at every step, and the loss goes down', async () => {
    expect(bundle.BATCH).toBe(BATCH);
    expect(bundle.IMAGE_SHAPE).toEqual([1, 32, 32]);
    const model = await bundle.createModel(gpu.device, { seed: 3 });
    try {
      // The CPU reference runs the compiler's own training step from the model's starting weights.
      const graph = compileModel({ file: LENET, overrides: { channels: 1 } }).graph!;
      const step = buildTrainStep(graph, BATCH, { kind: 'adam', lr: 0.002 });
      const store = new Map<string, Float32Array>(await model.getWeights());
      resetOptimizerState(step, store);
      const batches = fashionBatches(4);
      const cpuLosses: number[] = [];
      const gpuLosses: number[] = [];
      for (const b of batches.slice(0, 3)) {
        const cpu = runProgram(step.program, new Map([['image', b.images], ['labels', Float32Array.from(b.labels)]]), store);
        cpuLosses.push(cpu.get('loss')![0]!);
        gpuLosses.push(await model.trainStep(b));
      }
      gpuLosses.forEach((loss, i) => expect(relative(loss, cpuLosses[i]!), `step ${i}: ${loss} vs CPU ${cpuLosses[i]}`).toBeLessThan(1e-4));
      // The weights after those steps match too (Adam moves each by about lr whatever the gradient).
      const after = await model.getWeights();
      let worst = 0;
      for (const [name, w] of after) w.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - store.get(name)![i]!))));
      expect(worst).toBeLessThan(1e-4);

      const before = await model.evaluate(batches[3]!);
      const fitted = await model.fit(batches, { epochs: 4 });
      expect(fitted.steps).toBe(16);
      const later = await model.evaluate(batches[3]!);
      expect(later.loss).toBeLessThan(before.loss);
      expect(fitted.losses.slice(-4).reduce((a, b) => a + b)).toBeLessThan(gpuLosses.reduce((a, b) => a + b) / 3 * 4);
      process.stdout.write(
        `bundle in Node: ${model.dispatches} dispatches per step; losses ${gpuLosses.map((l) => l.toFixed(4)).join(', ')} (CPU ${cpuLosses.map((l) => l.toFixed(4)).join(', ')}); ` +
          `loss on the 4th batch ${before.loss.toFixed(3)} -> ${later.loss.toFixed(3)} after 16 more steps\n`,
      );
    } finally {
      model.dispose();
    }
  });

  it('saves weights as safetensors that a fresh model loads, predicting the same', async () => {
    const [b] = fashionBatches(1);
    const a = await bundle.createModel(gpu.device, { seed: 5 });
    await a.trainStep(b!);
    const bytes = await a.saveWeights();
    const c = await bundle.createModel(gpu.device, { seed: 6, weights: bytes });
    const c2 = await bundle.createModel(gpu.device, { seed: 6 });
    try {
      const pa = await a.predict(b!.images.subarray(0, 3 * 1024));
      const pc = await c.predict(b!.images.subarray(0, 3 * 1024));
      expect(pa.length).toBe(3 * bundle.CLASSES);
      expect([...pc]).toEqual([...pa]);
      expect([...(await c2.predict(b!.images.subarray(0, 3 * 1024)))]).not.toEqual([...pa]);
      for (let i = 0; i < 3; i++) expect(pa.subarray(i * 10, i * 10 + 10).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
      expect(() => c.setWeights(new Map([['conv_1.weight', new Float32Array(3)]]))).toThrow(/conv_1.weight.*3 values.*150/);
      expect(() => c.setWeights(new Map([['conv_9.weight', new Float32Array(3)]]))).toThrow("model LeNet5 has no weight 'conv_9.weight'");
      await expect(c.trainStep({ images: new Float32Array(5), labels: [1] })).rejects.toThrow("'image' needs 1 to 8 examples of 1024 floats (shape 8x1x32x32), got 5");
      await expect(c.predict(new Float32Array(9 * 1024))).rejects.toThrow("'image' needs 1 to 8 examples of 1024 floats (shape 8x1x32x32), got 9216");
    } finally {
      for (const m of [a, c, c2]) m.dispose();
    }
  });
});
