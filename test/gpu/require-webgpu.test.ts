// Without an adapter, GPU suites are skipped with install instructions, unless
// CNNC_REQUIRE_WEBGPU=1, where the missing adapter is an error (CI must not pass silently).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'cnnc-require-'));
const script = join(dir, 'probe.ts');
writeFileSync(script, `import { testDevice } from ${JSON.stringify(join(root, 'test/support/webgpu.ts'))};
const gpu = await testDevice();
console.log(gpu === undefined ? 'SKIPPED' : 'DEVICE');
gpu?.release();
`);

/** Runs the probe with a Vulkan ICD that does not exist, so no adapter can be found. */
function probe(require: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/run-ts.js'), script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CNNC_WEBGPU_BACKEND: 'vulkan', VK_ICD_FILENAMES: join(dir, 'missing_icd.json'), CNNC_REQUIRE_WEBGPU: require },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('the WebGPU test helper without an adapter', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('skips loudly and says how to install a software device', () => {
    const r = probe('0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('SKIPPED');
    expect(r.out).toContain('WEBGPU TESTS SKIPPED');
    expect(r.out).toContain('apt-get install -y chromium libvulkan1');
  });
  it('fails when CNNC_REQUIRE_WEBGPU=1', () => {
    const r = probe('1');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('CNNC_REQUIRE_WEBGPU=1 but no WebGPU adapter');
  });
});
