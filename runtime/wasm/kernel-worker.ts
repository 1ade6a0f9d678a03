// A kernel worker: instantiates each attached program's module on the shared memory, then waits
// on the control block and runs its part of every posted job (see control.ts) until told to yield.

import { parentPort, workerData } from 'node:worker_threads';
import { MATH_FUNCTIONS } from '../../compiler/codegen/wasm/elementwise.ts';
import { FAILED, FN, GEN, PARTS, partOf, PENDING, PROGRAM, UNITS, YIELD, type AttachMessage, type WorkerInit } from './control.ts';

type Kernel = (lo: number, hi: number, scratch: number) => void;
interface Attached {
  readonly kernels: readonly Kernel[];
  readonly scratch: number;
}

const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const programs = new Map<number, Attached>();
let seen = Atomics.load(control, GEN);

function serve(): void {
  for (;;) {
    while (Atomics.load(control, GEN) === seen) Atomics.wait(control, GEN, seen);
    seen = Atomics.load(control, GEN);
    const id = Atomics.load(control, PROGRAM);
    if (id !== YIELD) {
      const parts = Atomics.load(control, PARTS);
      if (init.index < parts) {
        // A failure must still count the part as done, or the main thread would wait forever.
        try {
          const p = programs.get(id)!;
          const [lo, hi] = partOf(Atomics.load(control, UNITS), parts, init.index);
          p.kernels[Atomics.load(control, FN)]!(lo, hi, p.scratch);
        } catch (e) {
          Atomics.store(control, FAILED, 1);
          parentPort!.postMessage({ failed: String(e) });
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
  parentPort!.postMessage(m.id);
  serve();
});
