// The size of a wasm program's memory for a number of threads: everything up to the scratch
// areas, one per thread, and a spare page. The compiler bounds a module's memory import with it and
// the runtime sizes the memory it makes, so both use this one function.

export const PAGE_BYTES = 65536;

export function memoryPages(scratchBase: number, scratchBytes: number, threads: number): number {
  return Math.ceil((scratchBase + scratchBytes * threads) / PAGE_BYTES) + 1;
}
