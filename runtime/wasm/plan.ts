// What the wasm runtime runs (runtime/wasm/program.ts): one compiled program as plain data, the
// module's bytes, the ordered steps and where every named tensor lives in its linear memory. The
// compiler writes it (compiler/emit-ts/plan-wasm.ts), for `--backend wasm` in process and for a
// bundle's module, which carries it for pages without WebGPU.

import type { LeafRole } from '../../compiler/ir/ops.ts';
import type { KernelAttrs } from '../../compiler/passes/kernel-ops.ts';

/** `length` floats at byte address `at` of the program's memory. */
export interface WasmRegion {
  readonly at: number;
  readonly length: number;
}

/** An exported function over `units` (examples, planes, elements) that threads split. */
export interface WasmCall {
  readonly fn: string;
  readonly units: number;
}

export type WasmStepPlan =
  | (WasmCall & {
      readonly kind: 'wasm';
      readonly label: string;
      /**
       * Each thread accumulates into its own zeroed `bytes` at the start of its scratch; the
       * partials are then summed into `into` (zeroed first) by `sum(src)`.
       */
      readonly partial?: { readonly bytes: number; readonly into: number; readonly sum: string };
      /** Runs after the kernel (its epilogue). */
      readonly then?: WasmCall;
      /** Floating-point operations of a GEMM kernel (2 per multiply-add), for GFLOP/s figures. */
      readonly flops?: number;
    })
  | {
      /** An anchor without generated code (losses, data movement): the reference kernel over views. */
      readonly kind: 'host';
      readonly label: string;
      readonly anchor: { readonly attrs: KernelAttrs; readonly shapes: readonly (readonly number[])[]; readonly shape: readonly number[] };
      readonly inputs: readonly WasmRegion[];
      readonly out: WasmRegion;
      readonly then?: WasmCall;
    };

/** A leaf tensor of the program: a feed, or persistent (a weight, optimizer state). */
export interface WasmTensor extends WasmRegion {
  readonly name: string;
  readonly role: LeafRole;
  readonly shape: readonly number[];
}

export interface WasmPlan {
  /**
   * The module (base64 in a bundle's source). It imports a shared memory; the runtime clears that
   * flag, the byte at `sharedFlagAt`, where memory cannot be shared (a page that is not
   * cross-origin isolated): the code is the same either way.
   */
  readonly module: Uint8Array | string;
  readonly sharedFlagAt: number;
  /** Scratch per thread at `scratchBase + t * scratchBytes`; the memory ends after the last thread's. */
  readonly scratchBase: number;
  readonly scratchBytes: number;
  /** The most threads the module's memory import allows. */
  readonly maxThreads: number;
  readonly steps: readonly WasmStepPlan[];
  readonly leaves: readonly WasmTensor[];
  /** Program outputs (`loss`, `output:<layer>`, `term:<i>`), read after a step. */
  readonly outputs: readonly (WasmRegion & { readonly name: string })[];
  /** Persistent tensors' new values, copied onto the leaf after every read of the step. */
  readonly updates: readonly { readonly name: string; readonly from: WasmRegion }[];
}
