// Every IR op, forward and backward, on WebGPU against the CPU reference on random inputs, with
// odd sizes that do not divide the tile sizes. Each case runs unfused (the op's own kernel) and
// fused (with a relu or add epilogue where the op allows one).

import { expect, it } from 'vitest';
import { GPU_TILING } from '../../compiler/codegen/wgsl/tiled.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { OP_CASES } from '../support/op-cases.ts';
import { expectMatchesCpu, GraphBuilder, programOf } from './compare.ts';

await describeWithGpu('every op on WebGPU matches the CPU reference', (gpu) => {
  for (const [name, build] of OP_CASES) {
    it(name, async () => {
      const b = new GraphBuilder();
      const outs = build(b);
      // A relu epilogue on each output exercises fusion on top of the op itself.
      const fused: Record<string, number> = { ...outs };
      for (const [k, v] of Object.entries(outs)) if (b.shape(v).length > 0) fused[`relu(${k})`] = b.unary('relu', v);
      await expectMatchesCpu(gpu, programOf(b, outs), 1e-4, undefined, { fuse: false });
      await expectMatchesCpu(gpu, programOf(b, fused));
      // Real GPUs' tiles stage operands through workgroup memory: run them here too.
      if (name.startsWith('conv') || name.includes('matmul')) {
        for (const convGrad of ['direct', 'restructured'] as const) {
          const staged = await expectMatchesCpu(gpu, programOf(b, fused), 1e-4, undefined, { tiling: GPU_TILING, convGrad });
          expect(staged.kernels.kernels.some((k) => k.kernel.wgsl.includes('var<workgroup> tileA'))).toBe(true);
        }
      }
      // Convolution gradients have two forms each (split K, column matrix): check both.
      if (name.startsWith('conv')) {
        const labels = async (convGrad: 'direct' | 'restructured'): Promise<string> =>
          (await expectMatchesCpu(gpu, programOf(b, fused), 1e-4, undefined, { convGrad })).kernels.kernels.map((k) => k.kernel.label).join(' ');
        expect(await labels('direct')).not.toMatch(/split|col2im/);
        const restructured = await labels('restructured');
        for (const op of ['conv_grad_weight_split', 'sum_splits', 'conv_grad_columns', 'col2im']) expect(restructured).toContain(op);
      }
    });
  }
});
