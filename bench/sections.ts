// The named sections of `npm run bench`, in the order a plain run executes them. Add a section
// by appending to `sections`; its name is what `npm run bench -- NAME` selects.

import type { Section, SectionContext } from './driver.ts';
import { runFrontendSection } from './frontend.ts';
import { devicePeak, gemmLine } from './gemm-peak.ts';
import { lspLatencySection } from './lsp.ts';
import { startupSection } from './startup.ts';
import { kernelProfileSection } from './kernel-profile.ts';
import { cpuSection } from './cpu-section.ts';
import { benchModels, findBenchModel } from './models.ts';
import { defaultPlans, runTrainingSection } from './training-section.ts';

function trainingSection(id: string): Section {
  const model = findBenchModel(id);
  if (model === undefined) throw new Error(`no bench model '${id}'`);
  const defaults = defaultPlans[id] ?? { warmupSteps: 1, timedSteps: 2 };
  return {
    name: id,
    description: `train ${model.cnn.model} (batch ${model.batch}, SGD) with cnnc and with TensorFlow.js on the same WebGPU device`,
    async *run(context: SectionContext) {
      const plan = {
        warmupSteps: context.options.warmup ?? defaults.warmupSteps,
        timedSteps: context.options.steps ?? defaults.timedSteps,
      };
      yield await runTrainingSection(model, await context.device(), plan, context.log);
    },
  };
}

export const sections: readonly Section[] = [
  {
    name: 'frontend',
    description: 'parse + check time of stdlib/*.cnn and of a generated 5,000-layer model (median of warm runs)',
    run: (context) => runFrontendSection(context.log),
  },
  {
    name: 'startup',
    description: 'CPU of a whole `cnnc check stdlib/resnet.cnn` process from the built package, beside `node -e 0`; processes left behind',
    run: (context) => startupSection(context.log),
  },
  {
    name: 'lsp',
    description: 'one-character edit in stdlib/resnet.cnn to published diagnostics, through the real language server (median of 100 edits)',
    async *run() {
      yield* await lspLatencySection();
    },
  },
  {
    name: 'gemm',
    description: "a 256^3 fp32 matrix product: the compiler's GEMM at the device's tiling and at one output per invocation, and the hand-written yardstick",
    async *run(context: SectionContext) {
      const bench = await context.device();
      yield await gemmLine(bench.device, bench.name, await devicePeak(bench.device, bench.context.caps));
    },
  },
  trainingSection('lenet5'),
  trainingSection('resnet8'),
  {
    name: 'cpu',
    description: 'train LeNet-5 and ResNet-8 (batch 64, SGD) and run them forward on the wasm back end, the CPU reference executor and PyTorch on the same threads, interleaved',
    run: (context) => cpuSection(benchModels, context),
  },
  {
    name: 'kernels',
    description: "each kernel of LeNet-5's training step (batch 64, SGD) timed alone: where a step's time goes",
    run: (context) => kernelProfileSection(findBenchModel('lenet5')!, context),
  },
];
