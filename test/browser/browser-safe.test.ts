// "Runs unchanged in a browser" needs the modules a bundle imports to be free of Node-only imports.
// These are the ones a generated bundle and an in-page front end rely on; esbuild's browser
// platform must bundle each of them. compiler/program.ts (reads files) is the known exception.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserBundleErrors } from '../support/browser.ts';

const REPO = resolve(import.meta.dirname, '../..');

const BROWSER_SAFE = [
  'grammar/index.ts',
  'compiler/checker/expand.ts',
  'grammar/diagnostics.ts',
  'compiler/summary.ts',
  'compiler/diagram.ts',
  'compiler/format/printer.ts',
  'compiler/lower/lower.ts',
  'compiler/autodiff/gradients.ts',
  'compiler/passes/fuse.ts',
  'compiler/passes/plan.ts',
  'runtime/tensor.ts',
  'runtime/safetensors.ts',
  'runtime/reference/executor.ts',
  'compiler/optim/train-step.ts',
  'runtime/webgpu/executor.ts',
  'runtime/webgpu/device.ts',
  'runtime/webgpu/pipelines.ts',
  'runtime/wasm/executor.ts',
];

describe('browser-safe modules', () => {
  it.each(BROWSER_SAFE)('%s bundles for the browser platform', async (module) => {
    expect(await browserBundleErrors(resolve(REPO, module))).toEqual([]);
  });

  it('compiler/program.ts does not (it reads .cnn files with node:fs), and the error names the import', async () => {
    const errors = await browserBundleErrors(resolve(REPO, 'compiler/program.ts'));
    expect(errors.join('\n')).toMatch(/compiler\/program\.ts:\d+: Could not resolve "node:fs"/);
  });
});
