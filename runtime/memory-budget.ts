// A model too large for this machine is refused before anything is allocated, with the size it
// needs and the limit, instead of a `RangeError: Invalid typed array length` from deep inside.

import { humanBytes, product } from '../compiler/checker/values.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { UserError } from '../grammar/user-error.ts';

const BYTES_PER_VALUE = 4;

export class MemoryBudgetError extends UserError {
  override readonly name = 'MemoryBudgetError';
}

export interface MemoryLimits {
  /** Largest single array, in bytes (Node's typed-array limit). */
  readonly tensorBytes: number;
  /** Everything together, in bytes (the machine's memory). */
  readonly totalBytes: number;
}

/** V8's largest typed array on 64-bit machines (Node's buffer.constants.MAX_LENGTH), in bytes. */
const MAX_ARRAY_BYTES = 2 ** 32;

// Browser-safe defaults (pages cannot ask for the machine's memory); the CLI sets the real total.
let machineLimits: MemoryLimits = { tensorBytes: MAX_ARRAY_BYTES, totalBytes: Number.POSITIVE_INFINITY };

/** Called once by the command line with the machine's memory (node:os totalmem). */
export function setMachineMemory(totalBytes: number): void {
  machineLimits = { ...machineLimits, totalBytes };
}

/**
 * Throws when one tensor of a batch (a parameter, or a layer's output for `batch` examples) is
 * beyond the largest array, or when weights (with gradients and optimizer state when training)
 * and activations together are beyond the machine's memory.
 */
export function checkMemoryBudget(graph: ModelGraph, batch: number, training: boolean, limits: MemoryLimits = machineLimits): void {
  let paramBytes = 0;
  let activationBytes = 0;
  const tensors = [
    ...graph.inputs.map((i) => ({ what: `input ${i.name}`, bytes: product(i.shape) * batch * BYTES_PER_VALUE, shape: [batch, ...i.shape] })),
    ...graph.layers.map((l) => ({ what: `the output of ${l.name}`, bytes: product(l.shape) * batch * BYTES_PER_VALUE, shape: [batch, ...l.shape] })),
  ];
  for (const t of tensors) activationBytes += t.bytes;
  const params = graph.layers.flatMap((l) => l.params.map((p) => ({ what: p.name, bytes: product(p.shape) * BYTES_PER_VALUE, shape: p.shape })));
  for (const p of params) paramBytes += p.bytes;
  const largest = [...tensors, ...params].reduce((a, b) => (b.bytes > a.bytes ? b : a), { what: '', bytes: 0, shape: [] as readonly number[] });
  if (largest.bytes > limits.tensorBytes) {
    throw new MemoryBudgetError(
      `model ${graph.name} is too large: ${largest.what} (${largest.shape.join('x')} floats) needs ${humanBytes(largest.bytes)}, over the ${humanBytes(limits.tensorBytes)} limit of one array; make the layer smaller${batch > 1 ? ' or lower --batch' : ''}`,
    );
  }
  // Training keeps gradients, two optimizer moments and the activations' gradients as well.
  const total = paramBytes * (training ? 4 : 1) + activationBytes * (training ? 2 : 1);
  if (total > limits.totalBytes) {
    throw new MemoryBudgetError(
      `model ${graph.name} needs about ${humanBytes(total)} (weights ${humanBytes(paramBytes)}, activations ${humanBytes(activationBytes)} for a batch of ${batch}${training ? ', with gradients and optimizer state' : ''}), more than this machine's ${humanBytes(limits.totalBytes)}; make the model smaller${batch > 1 ? ' or lower --batch' : ''}`,
    );
  }
}
