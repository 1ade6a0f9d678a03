// A whole compiled IR program: the node list plus what it reads, what it returns and which
// persistent tensors (parameters, state) it overwrites at the end of a run.

import type { IrNode, LeafRole } from './ops.ts';

export interface LeafInfo {
  readonly name: string;
  readonly role: LeafRole;
  readonly shape: readonly number[];
  readonly node: number;
}

/** Assignment applied after a run: the persistent leaf `name` takes the value of node `value`. */
export interface IrUpdate {
  readonly name: string;
  readonly value: number;
}

export interface IrProgram {
  /** Topological order; nodes[i].id === i. */
  readonly nodes: readonly IrNode[];
  /** Named results (`loss`, `output:<layer>`, gradients under the parameter's name, ...). */
  readonly outputs: ReadonlyMap<string, number>;
  /** Persistent tensors overwritten at the end of the run, in this order (all reads happen first). */
  readonly updates: readonly IrUpdate[];
}

/** Every leaf of a program, by role. */
export function leavesOf(program: IrProgram, role?: LeafRole): LeafInfo[] {
  const out: LeafInfo[] = [];
  for (const n of program.nodes) {
    if (n.attrs.op === 'leaf' && (role === undefined || n.attrs.role === role)) {
      out.push({ name: n.attrs.name, role: n.attrs.role, shape: n.shape, node: n.id });
    }
  }
  return out;
}

/** The values a run returns or writes back: its outputs, then its updates. */
export function resultsOf(program: IrProgram): number[] {
  return [...program.outputs.values(), ...program.updates.map((u) => u.value)];
}

/** Keeps only nodes the outputs and updates depend on, renumbering ids. */
export function pruneProgram(program: IrProgram): IrProgram {
  const live = new Uint8Array(program.nodes.length);
  const stack = resultsOf(program);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = 1;
    for (const i of program.nodes[id]!.inputs) stack.push(i);
  }
  const remap = new Int32Array(program.nodes.length).fill(-1);
  const nodes: IrNode[] = [];
  for (const n of program.nodes) {
    if (!live[n.id]) continue;
    remap[n.id] = nodes.length;
    nodes.push({ ...n, id: nodes.length, inputs: n.inputs.map((i) => remap[i]!) });
  }
  const outputs = new Map<string, number>();
  for (const [k, v] of program.outputs) outputs.set(k, remap[v]!);
  return { nodes, outputs, updates: program.updates.map((u) => ({ name: u.name, value: remap[u.value]! })) };
}
