// The YOLOv2 loss and its gradient on WebGPU against the PyTorch reference of
// scripts/detection_fixtures.py (1e-4 relative), and against the CPU executor.

import { expect, it } from 'vitest';
import { WebGpuExecutor } from '../../runtime/webgpu/executor.ts';
import { relativeTo, YOLO_FIXTURE, yoloProgram } from '../detect/yolo-fixture.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { expectMatchesCpu } from './compare.ts';

await describeWithGpu('YOLOv2 loss on WebGPU', (gpu) => {
  it('matches PyTorch: loss and gradient within 1e-4 relative', async () => {
    const { program, feeds } = yoloProgram(YOLO_FIXTURE);
    const prepared = await new WebGpuExecutor(gpu).prepare(program);
    try {
      const out = await prepared.run(feeds, new Map());
      expect(relativeTo(out.get('loss')!, [YOLO_FIXTURE.loss])).toBeLessThan(1e-4);
      expect(relativeTo(out.get('grad')!, YOLO_FIXTURE.grad)).toBeLessThan(1e-4);
    } finally {
      prepared.dispose();
    }
  });

  it('matches the CPU executor', async () => {
    const { program, feeds } = yoloProgram(YOLO_FIXTURE);
    await expectMatchesCpu(gpu, program, 1e-4, { feeds, store: new Map() });
  });
});
