// The CPU reference executor: interprets an IR program node by node with the kernels table.
// The oracle for WebGPU kernels and the fallback where no adapter exists.

import type { IrProgram } from '../../compiler/ir/program.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { Executor, Feeds, PreparedProgram, TensorStore } from '../executor.ts';
import { KERNELS } from './kernels.ts';

/** A missing or mis-sized input tensor; the message names it. */
export class ExecutionError extends Error {
  override readonly name = 'ExecutionError';
}

/** Evaluates every node once; returns all node values (index = node id). */
export function evaluate(program: IrProgram, feeds: Feeds, store: ReadonlyMap<string, Float32Array>): Float32Array[] {
  const values: Float32Array[] = [];
  for (const node of program.nodes) {
    if (node.attrs.op === 'leaf') {
      const { name, role } = node.attrs;
      const v = role === 'feed' ? feeds.get(name) : store.get(name);
      const want = sizeOf(node.shape);
      if (!v) throw new ExecutionError(`missing ${role} tensor '${name}' [${node.shape.join(', ')}]`);
      if (v.length !== want) {
        throw new ExecutionError(`${role} tensor '${name}' has ${v.length} elements, expected ${want} for [${node.shape.join(', ')}]`);
      }
      values.push(v);
      continue;
    }
    const inputs = node.inputs.map((i) => values[i]!);
    const shapes = node.inputs.map((i) => program.nodes[i]!.shape);
    values.push(KERNELS[node.attrs.op](node, inputs, shapes));
  }
  return values;
}

/** Runs once: outputs by name, then applies the updates to `store`. */
export function runProgram(program: IrProgram, feeds: Feeds, store: TensorStore): Map<string, Float32Array> {
  const values = evaluate(program, feeds, store);
  const out = new Map<string, Float32Array>();
  for (const [name, id] of program.outputs) out.set(name, values[id]!.slice());
  const pending = program.updates.map((u) => [u.name, values[u.value]!.slice()] as const);
  for (const [name, v] of pending) store.set(name, v);
  return out;
}

export const cpuExecutor: Executor = {
  name: 'cpu',
  prepare(program: IrProgram): Promise<PreparedProgram> {
    return Promise.resolve({
      program,
      run: (feeds: Feeds, store: TensorStore) => Promise.resolve(runProgram(program, feeds, store)),
      dispose: () => undefined,
    });
  },
};
