// Style transfer on WebGPU follows the CPU reference: over the first steps of Adam on the pixels
// of a reduced-width VGG-19 (random weights, 32x32: the smallest VGG-19's five pools allow), J,
// J_content and J_style agree within 1e-4 relative.

import { expect, it } from 'vitest';
import { buildInputObjective } from '../../compiler/lower/input-objective.ts';
import { initialWeights } from '../../runtime/init.ts';
import type { Executor } from '../../runtime/executor.ts';
import { cpuExecutor } from '../../runtime/reference/executor.ts';
import { optimizeInput } from '../../runtime/stylize/optimize.ts';
import { encodePixels, encodingOf } from '../../runtime/stylize/pixels.ts';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { picturesOf, styleGraph } from '../stylize/pictures.ts';

const STEPS = 3;
const SIZE = 32;
const { content: CONTENT, style: STYLE } = picturesOf(SIZE);

async function trace(executor: Executor): Promise<number[][]> {
  const objective = buildInputObjective(styleGraph(SIZE));
  const encoding = encodingOf('imagenet', 3);
  const fixed = new Map([
    ['content_image', encodePixels(CONTENT.data.map((v) => v * 255), 3, encoding)],
    ['style_image', encodePixels(STYLE.data.map((v) => v * 255), 3, encoding)],
  ]);
  const start = CONTENT.data.map((v, i) => v * 255 * 0.8 + 0.2 * ((i * 97) % 256));
  const rows: number[][] = [];
  await optimizeInput(objective, executor, initialWeights(styleGraph(SIZE), 1), fixed, start, {
    steps: STEPS,
    lr: 2,
    encoding,
    onStep: (r) => void rows.push([r.loss, r.parts.get('content')!, r.parts.get('style')!]),
  });
  return rows;
}

await describeWithGpu('stylize on WebGPU', (gpu) => {
  it(`gives the CPU's J, J_content and J_style over ${STEPS} Adam steps`, async () => {
    const cpu = await trace(cpuExecutor);
    const webgpu = await trace(new WebGpuExecutor(gpu));
    expect(webgpu).toHaveLength(STEPS + 1);
    expect(cpu[STEPS]![0]).toBeLessThan(cpu[0]![0]!);
    cpu.forEach((row, step) => row.forEach((want, k) => expect(Math.abs(webgpu[step]![k]! - want) / Math.abs(want), `step ${step} value ${k}`).toBeLessThanOrEqual(1e-4)));
  });
});
