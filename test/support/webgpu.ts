// Gives GPU test suites a real WebGPU device. Without an adapter the suite is skipped with a loud
// message saying how to install a software device, unless CNNC_REQUIRE_WEBGPU=1 (CI), where the
// missing adapter fails the run instead.

import { afterAll, describe } from 'vitest';
import { acquireDevice, NoWebGpuError, type GpuContext } from '../../runtime/webgpu/device.ts';

const INSTALL_HINT =
  'install a software WebGPU device: apt-get install -y chromium libvulkan1 (SwiftShader) ' +
  'and/or apt-get install -y libegl1 libegl-mesa0 libgles2 (llvmpipe); see /work/shared/webgpu-on-cpu.md';

let cached: Promise<GpuContext | undefined> | undefined;

/** The process's test device, or undefined (after a loud warning) when none can be had. */
export function testDevice(): Promise<GpuContext | undefined> {
  cached ??= (async () => {
    try {
      return await acquireDevice();
    } catch (error) {
      if (!(error instanceof NoWebGpuError)) throw error;
      if (process.env.CNNC_REQUIRE_WEBGPU === '1') {
        throw new Error(`CNNC_REQUIRE_WEBGPU=1 but ${error.message}`);
      }
      process.stderr.write(`\n*** WEBGPU TESTS SKIPPED: ${error.message}\n*** To run them, ${INSTALL_HINT}\n\n`);
      return undefined;
    }
  })();
  return cached;
}

/**
 * A describe block that runs with a real device (released after the block), or is skipped when
 * there is none (and CNNC_REQUIRE_WEBGPU is not 1).
 */
export async function describeWithGpu(name: string, body: (gpu: GpuContext) => void): Promise<void> {
  const gpu = await testDevice();
  describe.skipIf(gpu === undefined)(`${name} [${gpu?.name ?? 'no WebGPU adapter'}]`, () => {
    if (gpu === undefined) return;
    afterAll(() => gpu.release());
    body(gpu);
  });
}
