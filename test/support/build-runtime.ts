// Vitest global set-up: `cnnc/runtime` resolves to dist/runtime.js (package.json's exports), so
// every run first rebuilds it from the current sources for the tests that bundle generated models.

import { buildRuntime } from '../../scripts/build-dist.ts';

export default async function setup(): Promise<void> {
  await buildRuntime();
}
