// Whole training steps (forward, loss, backward, batchnorm statistics, optimizer update) on
// WebGPU against the CPU reference: LeNet-5, a small ResNet, an inception module and a U-Net, compiled
// from .cnn files. Loss, outputs and every updated tensor must agree within 1e-4 relative.

import { expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import { initialWeights } from '../../runtime/init.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { GPU_TILING } from '../../compiler/codegen/wgsl/tiled.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { expectMatchesCpu, randomArray, relativeError } from './compare.ts';

const INCEPTION = `
import inception
model SmallInception(classes = 5) {
  input image: 12 x 12 x 8
  inception(4, 3, 6, 2, 3, 3) as module
  global_avgpool
  dense classes -> softmax
  loss cross_entropy
}
`;

interface Case {
  readonly name: string;
  readonly file: string;
  readonly text?: string;
  readonly overrides?: Record<string, number>;
  readonly optimizer: OptimizerConfig;
  readonly batch: number;
  /** Also run with real GPUs' tiles (staged through workgroup memory; slow to compile on SwiftShader). */
  readonly staged?: boolean;
}

const cases: Case[] = [
  { name: 'LeNet-5 (SGD)', file: 'stdlib/lenet5.cnn', overrides: { channels: 1 }, optimizer: { kind: 'sgd', lr: 0.05 }, batch: 3, staged: true },
  { name: 'ResNet-8 (momentum, weight decay)', file: 'bench/resnet8.cnn', optimizer: { kind: 'momentum', lr: 0.05, weightDecay: 1e-4 }, batch: 2 },
  { name: 'inception module (SGD, cosine schedule)', file: 'test/gpu/small-inception.cnn', text: INCEPTION, optimizer: { kind: 'sgd', lr: 0.1, schedule: { kind: 'cosine', totalSteps: 10 } }, batch: 3, staged: true },
  { name: 'U-Net with transposed convolutions (SGD)', file: 'stdlib/segmentation.cnn', overrides: { width: 2 }, optimizer: { kind: 'sgd', lr: 0.05 }, batch: 2 },
];

/**
 * Smallest |x| over the inputs of relu (and of its gradient). ReLU's derivative jumps at 0, so an
 * input within float rounding of 0 may take either side on two correct backends; the test uses
 * inputs that keep every such value clear of the kink.
 */
function nearestKink(program: IrProgram, feeds: Map<string, Float32Array>, store: Map<string, Float32Array>): number {
  const values = evaluate(program, feeds, store);
  let min = Infinity;
  for (const n of program.nodes) {
    const x = n.attrs.op === 'unary' && n.attrs.fn === 'relu' ? n.inputs[0] : n.attrs.op === 'unary_grad' && n.attrs.fn === 'relu' ? n.inputs[1] : undefined;
    if (x !== undefined) for (const v of values[x]!) min = Math.min(min, Math.abs(v));
  }
  return min;
}

await describeWithGpu('training steps on WebGPU match the CPU reference', (gpu) => {
  for (const c of cases) {
    // Software devices under a loaded CI machine take tens of seconds for ResNet-8 and the U-Net.
    it(c.name, { timeout: 180_000 }, async () => {
      const compiled = compileModel({ file: c.file, text: c.text, overrides: c.overrides, readText: undefined });
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const graph = compiled.graph!;
      const step = buildTrainStep(graph, c.batch, c.optimizer);
      const store = new Map<string, Float32Array>();
      for (const [k, v] of initialWeights(graph, 7)) store.set(k, v);
      resetOptimizerState(step, store);
      for (const [name, shape] of step.persistent) if (!store.has(name)) store.set(name, name.includes('var') ? new Float32Array(sizeOf(shape)).fill(1) : new Float32Array(sizeOf(shape)));
      let feeds = new Map<string, Float32Array>();
      for (let seed = 1; seed <= 50; seed++) {
        feeds = new Map();
        for (const [name, shape] of step.feeds) {
          const n = sizeOf(shape);
          feeds.set(name, name === 'labels' ? Float32Array.from({ length: n }, (_, i) => (i * 3 + seed) % 5) : randomArray(n, seed, 0, 1));
        }
        if (nearestKink(step.program, feeds, store) > 2e-6) break;
      }
      expect(nearestKink(step.program, feeds, store)).toBeGreaterThan(2e-6);
      const prepared = await expectMatchesCpu(gpu, step.program, 1e-4, { feeds, store });
      // Fusion and planning did something: fewer kernels than ops, less memory than one buffer each.
      const ops = step.program.nodes.filter((n) => n.attrs.op !== 'leaf' && n.attrs.op !== 'reshape').length;
      expect(prepared.dispatches).toBeLessThan(ops);
      expect(prepared.memory.plannedBytes).toBeLessThan(prepared.memory.unplannedBytes);
      if (c.staged) await expectMatchesCpu(gpu, step.program, 1e-4, { feeds, store }, { tiling: GPU_TILING });
    });
  }

  it('LeNet-5 (Adam): every update agrees with the CPU reference', async () => {
    // Adam divides each gradient by its own magnitude, so an element whose gradient is rounding
    // noise may move by +-lr on either backend: the bound is lr there, and tight everywhere else.
    const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const lr = 0.01;
    const step = buildTrainStep(graph, 4, { kind: 'adam', lr });
    const init = new Map<string, Float32Array>(initialWeights(graph, 5));
    resetOptimizerState(step, init);
    const feeds = new Map([['image', randomArray(4 * 32 * 32, 9, 0, 1)], ['labels', Float32Array.from([1, 4, 7, 9])]]);
    const cpuStore = new Map([...init].map(([k, v]) => [k, v.slice()]));
    await (await cpuExecutor.prepare(step.program)).run(feeds, cpuStore);
    const prepared = await new WebGpuExecutor(gpu).prepare(step.program);
    try {
      const gpuStore = new Map([...init].map(([k, v]) => [k, v.slice()]));
      await prepared.run(feeds, gpuStore);
      for (const [name, want] of cpuStore) {
        const got = gpuStore.get(name)!;
        let off = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i]! - want[i]!);
          expect(d, `${name}[${i}]`).toBeLessThanOrEqual(2.5 * lr);
          if (d > 1e-5) off++;
        }
        expect(off / want.length, name).toBeLessThan(0.02);
      }
    } finally {
      prepared.dispose();
    }
  });

  it('queues several steps without waiting for each loss, parameters kept on the device', async () => {
    const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const step = buildTrainStep(graph, 2, { kind: 'sgd', lr: 0.05 });
    const init = new Map<string, Float32Array>(initialWeights(graph, 3));
    resetOptimizerState(step, init);
    const batches = [1, 2, 3].map((seed) => new Map([['image', randomArray(2 * 32 * 32, seed, 0, 1)], ['labels', Float32Array.from([seed % 10, (seed * 7) % 10])]]));
    const cpuStore = new Map([...init].map(([k, v]) => [k, v.slice()]));
    const cpu = await cpuExecutor.prepare(step.program);
    const cpuLosses: number[] = [];
    for (const feeds of batches) cpuLosses.push((await cpu.run(feeds, cpuStore)).get('loss')![0]!);
    const prepared = await new WebGpuExecutor(gpu).prepare(step.program);
    try {
      prepared.load(init);
      const pending = batches.map((feeds) => prepared.step(feeds));
      const gpuLosses = (await Promise.all(pending)).map((out) => out.get('loss')![0]!);
      expect(relativeError(Float32Array.from(gpuLosses), Float32Array.from(cpuLosses))).toBeLessThanOrEqual(1e-4);
      expect(cpuLosses[2]).not.toBe(cpuLosses[0]);
      const saved = new Map<string, Float32Array>();
      await prepared.save(saved);
      for (const [name, want] of cpuStore) expect(relativeError(saved.get(name)!, want), name).toBeLessThanOrEqual(1e-4);
    } finally {
      prepared.dispose();
    }
  });
});
