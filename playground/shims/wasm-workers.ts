// The page's stand-in for runtime/wasm/workers.ts: Node's worker_threads do not exist in a page, so
// the wasm back end runs on one thread there (runtime/wasm/select.ts then says so).

export function canShareMemory(): boolean {
  return false;
}

export function defaultThreads(): number {
  return 1;
}

export class WorkerPool {
  constructor(readonly size: number) {
    throw new Error('the playground runs the wasm back end on one thread');
  }
}
