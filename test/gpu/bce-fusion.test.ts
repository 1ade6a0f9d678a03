// Sigmoid + binary cross-entropy on WebGPU: the logits form (softplus kernels) gives PyTorch's loss
// and finite gradients on saturated logits, as the CPU reference does (test/numerics/bce-fusion).

import { expect, it } from 'vitest';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { bceRun, MODELS, REFERENCE } from '../numerics/bce-case.ts';
import { describeWithGpu } from '../support/webgpu.ts';

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-6);

await describeWithGpu('sigmoid + binary cross-entropy on WebGPU', (gpu) => {
  it('matches PyTorch on saturated logits, with finite gradients', async () => {
    const { program, feeds, store } = bceRun(MODELS.sigmoid);
    const prepared = await new WebGpuExecutor(gpu).prepare(program);
    const out = await prepared.run(feeds, store);
    prepared.dispose();
    expect(rel(out.get('loss')![0]!, REFERENCE.loss)).toBeLessThan(1e-5);
    expect(rel(out.get('dense_1.weight')![0]!, REFERENCE.gradWeight[0]!)).toBeLessThan(1e-4);
    expect(rel(out.get('dense_1.bias')![0]!, REFERENCE.gradBias[0]!)).toBeLessThan(1e-3);
  });
  it('one saturated example: tiny loss, not NaN', async () => {
    const { program, feeds, store } = bceRun(MODELS.sigmoid, [20, -20], [1, 0]);
    const prepared = await new WebGpuExecutor(gpu).prepare(program);
    const out = await prepared.run(feeds, store);
    prepared.dispose();
    expect(out.get('loss')![0]).toBeGreaterThan(1e-9);
    expect(out.get('loss')![0]).toBeLessThan(3e-9);
    for (const v of out.values()) for (const x of v) expect(Number.isFinite(x)).toBe(true);
  });
});
