// Checks a program's structural invariants: ids, topological order, input counts per op, equal
// shapes where an op needs them, outputs and updates in range and update shapes matching leaves.
// Returns the problems found (empty when the program is well formed).

import { sizeOf } from './ops.ts';
import { OP_TRAITS } from './traits.ts';
import type { IrProgram } from './program.ts';

export function verifyProgram(program: IrProgram): string[] {
  const problems: string[] = [];
  const { nodes } = program;
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  nodes.forEach((n, i) => {
    const where = `node ${i} (${n.attrs.op})`;
    if (n.id !== i) problems.push(`${where}: id ${n.id}`);
    const { arity, sameShape } = OP_TRAITS[n.attrs.op];
    if (arity === 'variadic' ? n.inputs.length < 1 : n.inputs.length !== arity) problems.push(`${where}: ${n.inputs.length} inputs, expected ${arity === 'variadic' ? 'at least 1' : arity}`);
    for (const j of n.inputs) if (!(j >= 0 && j < i)) problems.push(`${where}: input ${j} is not an earlier node`);
    for (const k of sameShape) {
      const s = nodes[n.inputs[k]!]?.shape;
      if (s && fmt(s) !== fmt(n.shape)) problems.push(`${where}: input ${k} has shape ${fmt(s)}, output ${fmt(n.shape)}`);
    }
    if (n.attrs.op === 'reshape') {
      const s = nodes[n.inputs[0]!]?.shape;
      if (s && sizeOf(s) !== sizeOf(n.shape)) problems.push(`${where}: ${fmt(s)} to ${fmt(n.shape)} changes the size`);
    }
  });
  for (const [name, id] of program.outputs) if (!nodes[id]) problems.push(`output ${name}: no node ${id}`);
  for (const u of program.updates) {
    const v = nodes[u.value];
    const leaf = nodes.find((n) => n.attrs.op === 'leaf' && n.attrs.name === u.name);
    if (!v) problems.push(`update ${u.name}: no node ${u.value}`);
    else if (leaf && fmt(leaf.shape) !== fmt(v.shape)) problems.push(`update ${u.name}: value ${fmt(v.shape)} for leaf ${fmt(leaf.shape)}`);
  }
  return problems;
}
