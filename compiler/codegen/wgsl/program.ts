// A whole program as WGSL kernels: lowered to kernel IR, fused into groups, one kernel per group.

import type { IrProgram } from '../../ir/program.ts';
import { groupProgram, type FuseOptions } from '../../passes/fuse.ts';
import type { ValueInfo } from '../../passes/lower-kernels.ts';
import { emitGroup, type FusedKernel } from './group.ts';

export type { FusedKernel } from './group.ts';

export interface KernelProgram {
  readonly program: IrProgram;
  readonly kernels: readonly FusedKernel[];
  readonly values: readonly ValueInfo[];
  /** Value holding each node's data (reshape nodes share their input's buffer). */
  readonly storageOf: (id: number) => number;
}

export function fuseProgram(program: IrProgram, options: FuseOptions): KernelProgram {
  const plan = groupProgram(program, options);
  const kernels = plan.groups.map((g) => emitGroup(g, plan.values, program.nodes, options.tiling, plan.storageOf));
  return { program, kernels, values: plan.values, storageOf: plan.storageOf };
}
