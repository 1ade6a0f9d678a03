// A kernel worker: instantiates each attached program's module on the shared memory, then waits
// on the control block and runs its part of every posted job (see control.ts) until told to yield.

import { parentPort, workerData } from 'node:worker_threads';
import { MATH_FUNCTIONS } from '../../compiler/codegen/wasm/elementwise.ts';
import { DETACH, FAILED, FN, GEN, PARTS, partOf, PENDING, PROGRAM, STOPPED, UNITS, YIELD, type AttachMessage, type WorkerInit, type WorkerReply } from './control.ts';

type Kernel = (lo: number, hi: number, scratch: number) => void;
interface Attached {
  readonly kernels: readonly Kernel[];
  readonly scratch: number;
}

const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const programs = new Map<number, Attached>();
let seen = Atomics.load(control, GEN);
const reply = (r: WorkerReply): void => parentPort!.postMessage(r);

// The main thread may be blocked waiting for this worker's part: tell it that none will come.
process.on('exit', () => {
  Atomics.store(control, STOPPED, 1);
  Atomics.notify(control, PENDING);
});

function serve(): void {
  for (;;) {
    while (Atomics.load(control, GEN) === seen) Atomics.wait(control, GEN, seen);
    seen = Atomics.load(control, GEN);
    const id = Atomics.load(control, PROGRAM);
    const fn = Atomics.load(control, FN);
    if (id !== YIELD && fn === DETACH) programs.delete(id);
    else if (id !== YIELD) {
      const parts = Atomics.load(control, PARTS);
      if (init.index < parts) {
        // A failure must still count the part as done, or the main thread would wait forever.
        try {
          const p = programs.get(id);
          if (p === undefined) throw new Error(`program ${id} is not attached to worker ${init.index}`);
          const [lo, hi] = partOf(Atomics.load(control, UNITS), parts, init.index);
          p.kernels[fn]!(lo, hi, p.scratch);
        } catch (e) {
          Atomics.store(control, FAILED, 1);
          reply({ kind: 'failed', error: String(e) });
        }
      }
    }
    if (Atomics.sub(control, PENDING, 1) === 1) Atomics.notify(control, PENDING);
    if (id === YIELD) return;
  }
}

parentPort!.on('message', (m: AttachMessage) => {
  const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory }, math: MATH_FUNCTIONS });
  const exports = instance.exports as Record<string, Kernel>;
  programs.set(m.id, { kernels: m.names.map((n) => exports[n]!), scratch: m.scratchBase + init.index * m.scratchBytes });
  reply({ kind: 'attached', id: m.id });
  serve();
});
