// Memory planning: assigns every intermediate tensor (activations, gradients, scratch) to a
// buffer slot by liveness over the kernel sequence, across forward and backward. Leaves (feeds,
// parameters, state) and materialised consts keep their own buffers; outputs and update values
// live to the end of the step.

import { sizeOf } from '../ir/ops.ts';
import type { IrProgram } from '../ir/program.ts';
import type { ValueInfo } from './lower-kernels.ts';

export interface MemoryPlan {
  /** Slot of each planned value (by value id); leaves and consts have none. */
  readonly slotOf: ReadonlyMap<number, number>;
  /** Bytes of each slot (its largest tenant). */
  readonly slotBytes: readonly number[];
  /** Bytes the slots take: the planned peak of intermediates. */
  readonly plannedBytes: number;
  /** Bytes all intermediates would take with one buffer each. */
  readonly unplannedBytes: number;
  /** Bytes of leaves and materialised consts (parameters, state, feeds). */
  readonly fixedBytes: number;
}

/** What planning reads of a kernel program (WGSL kernels, or the wasm back end's fusion groups). */
export interface PlanInput {
  readonly program: IrProgram;
  readonly values: readonly ValueInfo[];
  readonly storageOf: (id: number) => number;
  /** In run order: the values bound (`reads` inputs first) and the values written. */
  readonly kernels: readonly { readonly args: readonly number[]; readonly reads: number; readonly outputs: readonly number[] }[];
}

export function planMemory(kp: PlanInput): MemoryPlan {
  const END = Number.MAX_SAFE_INTEGER;
  const lastUse = new Map<number, number>();
  const firstDef = new Map<number, number>();
  kp.kernels.forEach((k, step) => {
    for (const v of k.args.slice(0, k.reads)) lastUse.set(v, step);
    for (const v of k.outputs) if (!firstDef.has(v)) firstDef.set(v, step);
  });
  for (const v of kp.program.outputs.values()) lastUse.set(kp.storageOf(v), END);
  for (const u of kp.program.updates) lastUse.set(kp.storageOf(u.value), END);

  const bytesOf = (v: number): number => Math.max(4, sizeOf(kp.values[v]!.shape) * 4);
  const planned = (v: number): boolean => kp.values[v]!.kind === 'node' || kp.values[v]!.kind === 'scratch';

  const slotOf = new Map<number, number>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  const dying = new Map<number, number[]>();
  let unplannedBytes = 0;
  kp.kernels.forEach((k, step) => {
    for (const v of k.outputs) {
    if (planned(v) && !slotOf.has(v)) {
      const need = bytesOf(v);
      unplannedBytes += need;
      // Best fit among free slots, else grow the largest free one, else a new slot.
      let pick = -1;
      for (const s of free) if (slotBytes[s]! >= need && (pick < 0 || slotBytes[s]! < slotBytes[pick]!)) pick = s;
      if (pick < 0 && free.length > 0) pick = free.reduce((a, b) => (slotBytes[a]! >= slotBytes[b]! ? a : b));
      if (pick >= 0) {
        free.splice(free.indexOf(pick), 1);
        slotBytes[pick] = Math.max(slotBytes[pick]!, need);
      } else {
        pick = slotBytes.length;
        slotBytes.push(need);
      }
      slotOf.set(v, pick);
      const end = lastUse.get(v) ?? step;
      if (end !== END) dying.set(end, [...(dying.get(end) ?? []), pick]);
    }
    }
    // Slots whose tenants are last read by this kernel are free for the next ones (never for
    // this kernel's own output: a kernel must not read and write one buffer).
    for (const s of dying.get(step) ?? []) free.push(s);
  });
  let fixedBytes = 0;
  for (const v of kp.values) if (!planned(v.id) && (v.kind === 'leaf' || kp.kernels.some((k) => k.outputs.includes(v.id)))) fixedBytes += bytesOf(v.id);
  return { slotOf, slotBytes, plannedBytes: slotBytes.reduce((a, b) => a + b, 0), unplannedBytes, fixedBytes };
}
