// A bundled model on the wasm back end (runtime/wasm/, the runtime `--backend wasm` uses): each
// program has its own memory; weights and optimizer state live in the training step's, and
// evaluation takes a copy of them when they changed since its last run. Threads where memory can
// be shared (Node; a page only when cross-origin isolated), one otherwise.

import { prepareWasmProgram, type WasmProgramRun } from '../wasm/program.ts';
import { openKernelThreads } from '../wasm/threads.ts';
import type { BundleEngine } from './engine.ts';
import type { BundleSpec } from './plan.ts';

export async function wasmEngine(spec: BundleSpec, threads: number | undefined, why: string): Promise<BundleEngine> {
  const choice = await openKernelThreads(threads, Math.min(spec.wasm.train.maxThreads, spec.wasm.eval.maxThreads));
  let train: WasmProgramRun;
  let evaluation: WasmProgramRun;
  try {
    [train, evaluation] = await Promise.all([prepareWasmProgram(spec.wasm.train, choice.pool), prepareWasmProgram(spec.wasm.eval, choice.pool)]);
  } catch (e) {
    choice.pool?.close();
    throw e;
  }
  const used = train.threads;
  const inTrain = new Set(train.leaves.map((l) => l.name));
  const feeds = new Set(spec.feeds.map((f) => f.name));
  const persistentInEval = evaluation.leaves.filter((l) => l.role !== 'feed' && inTrain.has(l.name));
  const pending = new Map<string, Float32Array>();
  /** Whether evaluation's copy of the weights is behind the training step's. */
  let stale = true;
  const programOf = (name: string): WasmProgramRun => (inTrain.has(name) ? train : evaluation);
  return {
    backend: { kind: 'wasm', threads: used, description: `${spec.model} runs on wasm, ${used} thread${used === 1 ? '' : 's'} (${why}${choice.note ? `; ${choice.note}` : ''})` },
    dispatches: train.kernels,
    write(name, data) {
      if (feeds.has(name)) return void pending.set(name, data);
      programOf(name).write(name, data, `model ${spec.model}`);
      if (inTrain.has(name)) stale = true;
    },
    read: (names) => Promise.resolve(new Map(names.map((n) => [n, programOf(n).read(n)]))),
    run(program, outputs) {
      const p = program === 'train' ? train : evaluation;
      if (p === evaluation && stale) {
        for (const l of persistentInEval) evaluation.write(l.name, train.read(l.name));
        stale = false;
      }
      for (const l of p.leaves) {
        const data = pending.get(l.name);
        if (data !== undefined) p.write(l.name, data, `model ${spec.model}`);
      }
      const out = p.run();
      if (p === train) stale = true;
      return Promise.resolve(new Map(outputs.map((o) => [o, out.get(o)!])));
    },
    dispose() {
      train.dispose();
      evaluation.dispose();
      choice.pool?.close();
    },
  };
}
