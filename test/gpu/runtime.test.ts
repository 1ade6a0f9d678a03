// The WebGPU runtime around the kernels: the pipeline cache, fusion within the device's binding
// limit, clear errors for models that do not fit, and the GEMM rate measurement.

import { expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/build.ts';
import { compileModel } from '../../compiler/program.ts';
import { fuseProgram } from '../../compiler/passes/fuse.ts';
import { tilingFor } from '../../compiler/codegen/wgsl/tiled.ts';
import { buildTrainStep } from '../../compiler/optim/train-step.ts';
import { hashWgsl, PipelineCache, WgslCompileError } from '../../runtime/webgpu/pipelines.ts';
import { DeviceLimitError, WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { expectMatchesCpu, programOf, randomInputs } from './compare.ts';

const KERNEL = `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = 1.0; }
`;

await describeWithGpu('WebGPU runtime', (gpu) => {
  it('caches pipelines by a hash of their WGSL', async () => {
    const cache = new PipelineCache(gpu.device);
    const a = await cache.get(KERNEL);
    const b = await cache.get(KERNEL);
    expect(b).toBe(a);
    expect(cache.compiled).toBe(1);
    await cache.get(KERNEL.replace('1.0', '2.0'));
    expect(cache.compiled).toBe(2);
    expect(hashWgsl(KERNEL)).toBe(hashWgsl(`${KERNEL}`));
    expect(hashWgsl(KERNEL)).not.toBe(hashWgsl(KERNEL.replace('1.0', '2.0')));
  });

  it('reports WGSL errors with the message and the numbered source', async () => {
    const cache = new PipelineCache(gpu.device);
    const bad = cache.get(KERNEL.replace('1.0', 'undefined_name'));
    await expect(bad).rejects.toThrow(WgslCompileError);
    await expect(bad).rejects.toThrow(/undefined_name/);
  });

  it('splits fused kernels to stay within the storage-buffer limit, with the same results', async () => {
    // conv + bias + inference batchnorm + relu + residual add: 9 buffers when fully fused.
    const b = new GraphBuilder();
    const x = b.leaf('x', 'feed', [2, 3, 6, 5]);
    const conv = b.conv(x, b.leaf('w', 'param', [3, 3, 3, 3]), { rank: 2, stride: [1, 1], padBefore: [1, 1], padAfter: [1, 1], dilation: [1, 1] });
    const biased = b.biasAdd(conv, b.leaf('bias', 'param', [3]));
    const bn = b.add({ op: 'batchnorm', eps: 1e-5 }, [biased, b.leaf('m', 'state', [3]), b.leaf('posv', 'state', [3]), b.leaf('g', 'param', [3]), b.leaf('be', 'param', [3])], [2, 3, 6, 5]);
    const y = b.binary('add', b.unary('relu', bn), x);
    const program = programOf(b, { y });
    const wide = await expectMatchesCpu(gpu, program, 1e-4, undefined, { maxStorageBuffers: 12 });
    expect(wide.dispatches).toBe(1);
    expect(wide.kernels.kernels[0]!.kernel.label).toBe('conv+bias_add+batchnorm+unary+binary');
    const narrow = await expectMatchesCpu(gpu, program, 1e-4, undefined, { maxStorageBuffers: 6 });
    expect(narrow.dispatches).toBeGreaterThan(1);
    for (const k of narrow.kernels.kernels) expect(k.args.length).toBeLessThanOrEqual(6);
  });

  it('concatenates more inputs than a kernel may bind through a tree of partial concatenations', async () => {
    const b = new GraphBuilder();
    const xs = Array.from({ length: 9 }, (_, i) => b.leaf(`x${i}`, 'feed', [2, 1 + (i % 3), 3]));
    const program = programOf(b, { y: b.unary('relu', b.concat([...xs, xs[0]!], 1)) });
    const prepared = await expectMatchesCpu(gpu, program, 1e-4, undefined, { maxStorageBuffers: 4 });
    expect(prepared.kernels.kernels.filter((k) => k.kernel.label.startsWith('concat')).length).toBeGreaterThan(3);
    for (const k of prepared.kernels.kernels) expect(k.args.length).toBeLessThanOrEqual(4);
  });

  it('fuses an epilogue that reads earlier values of its kernel, not only the last', async () => {
    // y = relu(x @ w); z = y * sigmoid(y) + y: one kernel whose epilogue reuses y twice.
    const b = new GraphBuilder();
    const y = b.unary('relu', b.matmul(b.leaf('x', 'feed', [5, 7]), b.leaf('w', 'param', [7, 9])));
    const z = b.binary('add', b.binary('mul', y, b.unary('sigmoid', y)), y);
    const prepared = await expectMatchesCpu(gpu, programOf(b, { z }));
    expect(prepared.kernels.kernels.map((k) => k.kernel.label)).toEqual(['matmul+unary+unary+binary+binary']);
  });

  it('updates each Adam parameter in the kernel that computes its gradient when 12 buffers are allowed', async () => {
    const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const kernels = (kind: 'sgd' | 'adam', maxStorageBuffers: number): number =>
      fuseProgram(buildTrainStep(graph, 4, { kind, lr: 0.01 }).program, { maxStorageBuffers, tiling: tilingFor(gpu.caps) }).kernels.length;
    expect(kernels('adam', 12)).toBe(kernels('sgd', 12));
    // With WebGPU's default 8, the moment updates and the step need a second kernel per parameter.
    expect(kernels('adam', 8)).toBe(kernels('sgd', 8) + 10);
  });

  it('profiles each kernel of a prepared program alone', async () => {
    const b = new GraphBuilder();
    const x = b.leaf('x', 'feed', [2, 3, 9, 9]);
    const y = b.conv(x, b.leaf('w', 'param', [4, 3, 3, 3]), { rank: 2, stride: [1, 1], padBefore: [0, 0], padAfter: [0, 0], dilation: [1, 1] });
    const program = programOf(b, { y: b.reduce('sum', b.unary('relu', y), [0, 2, 3]) });
    const prepared = await new WebGpuExecutor(gpu).prepare(program);
    try {
      const inputs = randomInputs(program);
      await prepared.run(inputs.feeds, inputs.store);
      const times = await prepared.profile(1);
      expect(times.map((t) => t.label)).toEqual(['conv+unary', 'reduce']);
      expect(times.map((t) => t.workgroups)).toEqual(prepared.kernels.kernels.map((k) => k.kernel.workgroups));
      for (const t of times) expect(t.ms).toBeGreaterThan(0);
    } finally {
      prepared.dispose();
    }
  });

  it('fails with a clear message when a tensor exceeds the binding size limit', async () => {
    const b = new GraphBuilder();
    const side = Math.ceil(Math.sqrt(gpu.caps.maxStorageBufferBindingSize / 4)) + 1;
    const x = b.leaf('huge', 'feed', [side, side]);
    const program = programOf(b, { y: b.unary('relu', x) });
    const run = new WebGpuExecutor(gpu).prepare(program);
    await expect(run).rejects.toThrow(DeviceLimitError);
    await expect(run).rejects.toThrow(/'huge'.*maxStorageBufferBindingSize/);
  });
});
