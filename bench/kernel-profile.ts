// Where a cnnc training step's time goes: each kernel of the bench model's SGD step timed alone on
// the bench device (best of 3 after a warm-up), largest first, with its share of the summed time.
// Summed kernel time exceeds a real step's, which overlaps nothing but pays one submission per
// kernel here; the shares are what guide optimisation.

import type { SectionContext } from './driver.ts';
import { prepareCnncStep } from './cnnc-side.ts';
import type { BenchModel } from './models.ts';

export async function* kernelProfileSection(model: BenchModel, context: SectionContext): AsyncGenerator<object> {
  const bench = await context.device();
  const { prepared, run } = await prepareCnncStep(model, bench.context);
  try {
    await run();
    context.log(`kernels: timing ${prepared.dispatches} kernels of ${model.id}`);
    const times = await prepared.profile(3);
    const total = times.reduce((sum, k) => sum + k.ms, 0);
    for (const k of [...times].sort((a, b) => b.ms - a.ms)) {
      yield { section: 'kernels', model: model.id, device: bench.name, kernel: k.label, workgroups: k.workgroups, ms: round(k.ms), share: round(k.ms / total) };
    }
    yield { section: 'kernels', model: model.id, device: bench.name, kernel: '(all, one submission each)', ms: round(total), share: 1 };
  } finally {
    prepared.dispose();
  }
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
