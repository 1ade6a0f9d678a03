// A kernel thread's code, the same in a Node worker thread and a browser's Web Worker: it gets its
// place (control block, index) as a first message, instantiates each attached program's module on
// the shared memory, then waits on the control block and runs its part of every posted job (see
// control.ts) until told to yield. Threads start from source text (`eval` in Node, a Blob URL in a
// page), so a bundle needs no worker file beside it: `kernelThread` and `mathFunctions` read
// nothing outside themselves.

import { mathFunctions } from '../../compiler/codegen/wasm/elementwise.ts';
import { CONTROL, type AttachMessage, type InitMessage, type WorkerReply } from './control.ts';

/** How a thread talks to its parent: the platform's glue (see threadSource). */
export interface ThreadPort {
  post(reply: WorkerReply): void;
  listen(onMessage: (message: InitMessage | AttachMessage) => void): void;
  /** Runs `f` when the thread exits (Node); a page's worker has no such event. */
  onExit(f: () => void): void;
}

type Kernel = (lo: number, hi: number, scratch: number) => void;

export function kernelThread(port: ThreadPort, C: typeof CONTROL, math: WebAssembly.ModuleImports): void {
  let control = new Int32Array(new SharedArrayBuffer(4));
  let index = 0;
  let seen = 0;
  const programs = new Map<number, { readonly kernels: readonly Kernel[]; readonly scratch: number }>();
  const serve = (): void => {
    for (;;) {
      while (Atomics.load(control, C.GEN) === seen) Atomics.wait(control, C.GEN, seen);
      seen = Atomics.load(control, C.GEN);
      const id = Atomics.load(control, C.PROGRAM);
      const fn = Atomics.load(control, C.FN);
      if (id !== C.YIELD && fn === C.DETACH) programs.delete(id);
      else if (id !== C.YIELD) {
        const parts = Atomics.load(control, C.PARTS);
        if (index < parts) {
          // A failure must still count the part as done, or the main thread would wait forever.
          try {
            const p = programs.get(id);
            if (p === undefined) throw new Error(`program ${id} is not attached to kernel thread ${index}`);
            const units = Atomics.load(control, C.UNITS);
            p.kernels[fn]!(Math.floor((units * index) / parts), Math.floor((units * (index + 1)) / parts), p.scratch);
          } catch (e) {
            Atomics.store(control, C.FAILED, 1);
            port.post({ kind: 'failed', error: String(e) });
          }
        }
      }
      if (Atomics.sub(control, C.PENDING, 1) === 1) Atomics.notify(control, C.PENDING);
      if (id === C.YIELD) return;
    }
  };
  port.listen((m) => {
    if (m.kind === 'init') {
      control = new Int32Array(m.control);
      index = m.index;
      seen = Atomics.load(control, C.GEN);
      // The main thread may be blocked waiting for this thread's part: tell it that none will come.
      port.onExit(() => {
        Atomics.store(control, C.STOPPED, 1);
        Atomics.notify(control, C.PENDING);
      });
      return;
    }
    const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory }, math });
    const exports = instance.exports as Record<string, Kernel>;
    programs.set(m.id, { kernels: m.names.map((n) => exports[n]!), scratch: m.scratchBase + index * m.scratchBytes });
    port.post({ kind: 'attached', id: m.id });
    serve();
  });
}

/** Glue for a Node worker thread (`new Worker(source, { eval: true })`: CommonJS, `require` is there). */
const NODE_PORT = `(() => {
  const { parentPort } = require('node:worker_threads');
  return { post: (r) => parentPort.postMessage(r), listen: (f) => parentPort.on('message', f), onExit: (f) => process.on('exit', f) };
})()`;

/** Glue for a page's Web Worker. */
const WEB_PORT = `({ post: (r) => self.postMessage(r), listen: (f) => { self.onmessage = (e) => f(e.data); }, onExit: () => undefined })`;

/** A kernel thread's whole source, for `platform`. */
export function threadSource(platform: 'node' | 'web'): string {
  return `(${kernelThread.toString()})(${platform === 'node' ? NODE_PORT : WEB_PORT}, ${JSON.stringify(CONTROL)}, (${mathFunctions.toString()})());\n`;
}
