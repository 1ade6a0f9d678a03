// Encodings and mined-triplet training steps on a real WebGPU device match the CPU executor.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { chooseEncoding, encodeDataset, openEncoder } from '../../runtime/faces/encoder.ts';
import { trainMetric, type MetricTrainingOptions } from '../../runtime/faces/metric-training.ts';
import { initialWeights } from '../../runtime/init.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { FACE_MODELS, faceDataset } from '../faces/generated.ts';
import { describeWithGpu } from '../support/webgpu.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-faces-gpu-'));
writeFileSync(join(dir, 'faces.cnn'), FACE_MODELS);
const graph = (model: string) => compileModel({ file: join(dir, 'faces.cnn'), model, overrides: {} }).graph!;

await describeWithGpu('faces on WebGPU', (gpu) => {
  it('encodes as the CPU executor does', async () => {
    const g = graph('Encoder');
    const weights = initialWeights(g, 3);
    const data = faceDataset(0, 4, 5);
    const run = async (executor: typeof cpuExecutor) => (await encodeDataset(await openEncoder(g, chooseEncoding(g), weights, executor, 8), data)).encodings.data;
    const [cpu, webgpu] = [await run(cpuExecutor), await run(new WebGpuExecutor(gpu))];
    for (let i = 0; i < cpu.length; i++) expect(Math.abs(webgpu[i] - cpu[i])).toBeLessThan(1e-4);
  });

  it('mines and trains as the CPU executor does', async () => {
    const options: MetricTrainingOptions = { identities: 4, perIdentity: 3, mining: 'semi-hard', epochs: 1, stepsPerEpoch: 4, optimizer: { kind: 'adam', lr: 0.01 }, seed: 1 };
    const losses = async (executor: typeof cpuExecutor) => {
      const steps: number[] = [];
      const r = await trainMetric(graph('Triplet'), faceDataset(0, 6, 6), executor, { ...options, onStep: (s) => steps.push(s.loss) });
      return { steps, weight: r.weights.get('encoder.dense_1.weight')! };
    };
    const [cpu, webgpu] = [await losses(cpuExecutor), await losses(new WebGpuExecutor(gpu))];
    for (let i = 0; i < cpu.steps.length; i++) expect(webgpu.steps[i]).toBeCloseTo(cpu.steps[i], 4);
    for (let i = 0; i < cpu.weight.length; i++) expect(Math.abs(webgpu.weight[i] - cpu.weight[i])).toBeLessThan(1e-4);
  });
});
