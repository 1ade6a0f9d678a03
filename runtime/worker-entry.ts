// How to start a worker thread on one of the repository's `*-worker.ts` modules, from TypeScript
// sources or from the built package (where each `*-worker.ts` is an entry point of its own).

import { fileURLToPath } from 'node:url';

/**
 * `new Worker(script, { eval })` arguments for the worker module `./NAME-worker` next to the
 * module at `callerUrl`. From sources the worker first registers the repository's .ts loader
 * (bin/ts-register.js): `execArgv: ['--import', ...]` does not reach a worker's own entry file on
 * Node 20, but registering inside the worker does.
 */
export function workerEntry(callerUrl: string, name: string): { script: string; eval: boolean } {
  if (callerUrl.endsWith('.ts')) {
    const loader = new URL('../bin/ts-register.js', import.meta.url).href;
    const worker = new URL(`./${name}.ts`, callerUrl).href;
    return { script: `import(${JSON.stringify(loader)}).then(() => import(${JSON.stringify(worker)}));`, eval: true };
  }
  return { script: fileURLToPath(new URL(`./${name}.js`, callerUrl)), eval: false };
}
