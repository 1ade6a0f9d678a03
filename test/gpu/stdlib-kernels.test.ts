// Every kernel emitted for every standard-library model (training step, or the forward pass where
// a model has no loss) compiles in Dawn with no errors and no warnings, and no kernel binds more
// storage buffers than the device allows.

import { expect, it } from 'vitest';
import { buildInferenceProgram } from '../../compiler/lower/programs.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { compileModel, listStdlib, loadProgram, rootModels, stdlibPath } from '../../compiler/program.ts';
import { fuseProgram } from '../../compiler/passes/fuse.ts';
import { GPU_TILING, tilingFor } from '../../compiler/codegen/wgsl/tiled.ts';
import { buildTrainStep } from '../../compiler/optim/train-step.ts';
import { compilationMessages } from '../../runtime/webgpu/pipelines.ts';
import { describeWithGpu } from '../support/webgpu.ts';

interface StdModel {
  readonly label: string;
  readonly program?: IrProgram;
  readonly error?: string;
}

function stdlibModels(): StdModel[] {
  const out: StdModel[] = [];
  for (const file of listStdlib().map(stdlibPath)) {
    for (const m of rootModels(loadProgram(file))) {
      const label = `${file.split('/').pop()} ${m.name.name}`;
      const graph = compileModel({ file, model: m.name.name }).graph;
      if (graph === undefined) continue;
      try {
        const program = graph.loss.length === 0 ? buildInferenceProgram(graph, 2) : buildTrainStep(graph, 2, { kind: 'momentum', lr: 0.01 }).program;
        out.push({ label, program });
      } catch (error) {
        out.push({ label, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return out;
}

await describeWithGpu('stdlib kernels compile in Dawn', (gpu) => {
  const models = stdlibModels();
  const checked = new Set<string>();
  it('finds the standard library, and every model lowers', () => {
    expect(models.filter((m) => m.program !== undefined).length).toBeGreaterThanOrEqual(10);
    expect(models.filter((m) => m.error !== undefined).map((m) => `${m.label}: ${m.error}`)).toEqual([]);
  });
  for (const m of models) {
    if (m.program === undefined) continue;
    it(m.label, async () => {
      // This device's tiles, and real GPUs' (staged through workgroup memory, with barriers that
      // must pass WGSL's uniformity analysis).
      const kernels = [tilingFor(gpu.caps), GPU_TILING].flatMap((tiling) => fuseProgram(m.program!, { maxStorageBuffers: gpu.caps.maxStorageBuffersPerShaderStage, tiling }).kernels);
      expect(kernels.length).toBeGreaterThan(0);
      for (const k of kernels) {
        expect(k.args.length, k.kernel.label).toBeLessThanOrEqual(gpu.caps.maxStorageBuffersPerShaderStage);
        if (checked.has(k.kernel.wgsl)) continue;
        checked.add(k.kernel.wgsl);
        const module = gpu.device.createShaderModule({ code: k.kernel.wgsl });
        expect(await compilationMessages(module), `${k.kernel.label}\n${k.kernel.wgsl}`).toEqual([]);
      }
    });
  }
});
