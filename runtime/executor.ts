// The interface every backend implements (CPU reference, WebGPU), so tests can run one IR program
// on several backends and compare.

import type { IrProgram } from '../compiler/ir/program.ts';

/** Persistent tensors by leaf name: parameters and state (running stats, optimizer slots, step). */
export type TensorStore = Map<string, Float32Array>;

/** Per-run inputs by leaf name (role 'feed'): images, labels (f32 class indices), seeds. */
export type Feeds = ReadonlyMap<string, Float32Array>;

export interface PreparedProgram {
  readonly program: IrProgram;
  /**
   * Runs the program once: reads feeds and the store, returns every named output (fresh arrays),
   * then writes the program's updates into `store` (parameters, state).
   */
  run(feeds: Feeds, store: TensorStore): Promise<Map<string, Float32Array>>;
  /** Frees device resources (a no-op on the CPU). */
  dispose(): void;
}

export interface Executor {
  readonly name: string;
  prepare(program: IrProgram): Promise<PreparedProgram>;
}

/** A prepared program whose persistent tensors stay on the device between runs (WebGPU). */
export interface ResidentProgram extends PreparedProgram {
  /** Uploads every persistent tensor. */
  load(store: TensorStore): void;
  /** One run on the device-resident tensors: only the outputs come back. */
  step(feeds: Feeds): Promise<Map<string, Float32Array>>;
  /** Reads every persistent tensor back into `store`. */
  save(store: TensorStore): Promise<void>;
}

export function isResident(p: PreparedProgram): p is ResidentProgram {
  const r = p as Partial<ResidentProgram>;
  return typeof r.load === 'function' && typeof r.step === 'function' && typeof r.save === 'function';
}

/** Runs a prepared program repeatedly, keeping `store` on the device where the backend can. */
export function repeatedRunner(prepared: PreparedProgram, store: TensorStore): (feeds: Feeds) => Promise<Map<string, Float32Array>> {
  if (isResident(prepared)) {
    prepared.load(store);
    return (feeds) => prepared.step(feeds);
  }
  return (feeds) => prepared.run(feeds, store);
}
