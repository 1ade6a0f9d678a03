// Real WebGPU (Dawn on SwiftShader): the tfjs peer and the training line, with a stand-in cnnc side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCnncTrainer, type CnncTrainer } from '../../bench/cnnc-side.ts';
import { acquireBenchDevice, type BenchDevice } from '../../bench/device.ts';
import { gpuCallCounts, installDispatchCounter } from '../../bench/dispatch-counter.ts';
import { cnncGemm, gemmLine, handWrittenGemm, measureGemmPeak, NAIVE_TILING, prepareGemm, type GemmKernel } from '../../bench/gemm-peak.ts';
import { tilingFor } from '../../compiler/codegen/wgsl/tiled.ts';
import { lenet5, type BenchModel } from '../../bench/models.ts';
import { modelStats } from '../../bench/model-stats.ts';
import { runTfjsPeer } from '../../bench/tfjs-peer.ts';
import { runTrainingSection } from '../../bench/training-section.ts';

let bench: BenchDevice;
const small: BenchModel = { ...lenet5, batch: 4 };

beforeAll(async () => {
  bench = await acquireBenchDevice();
});

afterAll(() => setCnncTrainer(undefined));

/** Runs a one-invocation kernel `times` times in one pass, submits once and waits. */
async function dispatchTrivial(device: GPUDevice, times: number): Promise<void> {
  const module = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> b: array<u32>;\n@compute @workgroup_size(1) fn main() { b[0] = b[0] + 1u; }' });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buffer = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  for (let i = 0; i < times; i++) pass.dispatchWorkgroups(1);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  buffer.destroy();
}

describe('bench on WebGPU', () => {
  it('counts dispatches and submissions on the device', async () => {
    installDispatchCounter();
    const before = gpuCallCounts();
    await dispatchTrivial(bench.device, 3);
    const after = gpuCallCounts();
    expect(after.dispatches - before.dispatches).toBe(3);
    expect(after.submits - before.submits).toBe(1);
  });

  const gemmForms = (n: number): GemmKernel[] => [handWrittenGemm(n), cnncGemm(n, tilingFor(bench.context.caps)), cnncGemm(n, NAIVE_TILING)];

  it('multiplies matrices correctly in every GEMM kernel the bench times', async () => {
    const n = 64;
    const a = new Float32Array(n * n).map((_, i) => Math.sin(i));
    const b = new Float32Array(n * n).map((_, i) => Math.cos(3 * i));
    for (const kernel of gemmForms(n)) {
      const gemm = prepareGemm(bench.device, kernel, a, b);
      await gemm.run(1);
      const c = await gemm.read();
      gemm.destroy();
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let k = 0; k < n; k++) sum += a[i * n + k]! * b[k * n + j]!;
          worst = Math.max(worst, Math.abs(sum - c[i * n + j]!));
        }
      }
      expect(worst, kernel.label).toBeLessThan(1e-4);
    }
    expect(() => handWrittenGemm(48)).toThrow(/multiple of 32, got 48/);
  });

  it('reports the GEMM rates and the yardstick as the faster kernel', async () => {
    const peak = await measureGemmPeak(bench.device, bench.context.caps, 64, 2);
    expect(peak.gflopPerS).toBeGreaterThan(0);
    expect(gemmForms(64).slice(0, 2).map((k) => k.label)).toContain(peak.kernel);
    const line = (await gemmLine(bench.device, bench.name, peak)) as Record<string, number | string>;
    expect(line).toMatchObject({ section: 'gemm', device: bench.name, n: 64, cnnc_tiling: cnncGemm(64, tilingFor(bench.context.caps)).label });
    expect(line.peak_gflop_per_s).toBe(Math.max(line.cnnc_gflop_per_s as number, line.hand_written_gflop_per_s as number));
    const speedup = (line.cnnc_gflop_per_s as number) / (line.cnnc_naive_gflop_per_s as number);
    expect(Math.abs((line.register_tiling_speedup as number) / speedup - 1)).toBeLessThan(1e-3);
  });

  it('trains the described LeNet-5 with tfjs and measures it', async () => {
    const figures = await runTfjsPeer(small, bench, { warmupSteps: 0, timedSteps: 2 });
    expect(figures.params).toBe(modelStats(small).params);
    expect(Number.isFinite(figures.firstLoss) && Number.isFinite(figures.lastLoss)).toBe(true);
    expect(figures.lastLoss).toBeLessThan(figures.firstLoss); // SGD on one fixed batch goes downhill
    expect(figures.imagesPerS).toBeGreaterThan(0);
    expect(figures.firstStepMs).toBeGreaterThan(figures.steadyStepMs);
    expect(figures.dispatchesPerStep).toBeGreaterThan(10); // conv, pool, dense, softmax, their gradients, updates
    expect(figures.peakBytes).toBeGreaterThan(small.batch * 28 * 28 * 6 * 4);
  });

  it('reports a training line with the ratio, counting cnnc dispatches itself when not told', async () => {
    const stepsRun: number[] = [];
    const standIn: CnncTrainer = async (model, device, plan) => {
      const steps = 1 + plan.warmupSteps + plan.timedSteps;
      for (let i = 0; i < steps; i++) await dispatchTrivial(device.device, 5);
      stepsRun.push(steps);
      return { imagesPerS: 2 * model.batch, firstStepMs: 1, dispatchesPerStep: null, peakBytes: 1234, convFractionOfGemmPeak: null, convGflopPerS: 0.5 };
    };
    setCnncTrainer(standIn);
    const lines: string[] = [];
    const line = await runTrainingSection(small, bench, { warmupSteps: 0, timedSteps: 1 }, (l) => lines.push(l));
    expect(stepsRun).toEqual([2]);
    expect(line.dispatches_per_step).toBe(5);
    expect(line.cnnc_images_per_s).toBe(8);
    expect(line.ratio).toBeCloseTo(8 / line.tfjs_images_per_s, 3);
    expect(line.cnnc_peak_bytes).toBe(1234);
    expect(line.gemm_peak_gflop_per_s).toBeGreaterThan(0);
    expect(line.conv_fraction_of_gemm_peak).toBeCloseTo(0.5 / line.gemm_peak_gflop_per_s, 3);
    expect(line.device).toBe(bench.name);
    expect(Object.keys(line)).toEqual(expect.arrayContaining([
      'model', 'device', 'cnnc_images_per_s', 'tfjs_images_per_s', 'ratio', 'dispatches_per_step',
      'cnnc_peak_bytes', 'tfjs_peak_bytes', 'conv_fraction_of_gemm_peak',
    ]));
  });

  it('keeps the tfjs figures with null cnnc fields when the cnnc side fails', async () => {
    setCnncTrainer(async () => {
      throw new Error('executor exploded');
    });
    const logs: string[] = [];
    const line = await runTrainingSection(small, bench, { warmupSteps: 0, timedSteps: 1 }, (l) => logs.push(l));
    expect(line.cnnc_images_per_s).toBeNull();
    expect(line.ratio).toBeNull();
    expect(line.tfjs_images_per_s).toBeGreaterThan(0);
    expect(logs.some((l) => l.includes('executor exploded'))).toBe(true);
  });
});
