// The tensors a program reads, taken from a weights file by name and checked for presence, shape
// and a float type before anything runs: every problem is listed in one error line (the first
// five and a count), so a file for another width or another model is diagnosed in one go.

import { didYouMean } from '../grammar/diagnostics.ts';
import { DataError } from './data/dataset.ts';
import { toFloat32, type HostTensor } from './tensor.ts';

/**
 * `wanted` maps tensor names to the shapes the model needs; `source` names the file and `what`
 * the model (or the part of it) in the message: `<source> does not fit <what>: ...`.
 */
export function fitWeights(wanted: Iterable<readonly [string, readonly number[]]>, file: ReadonlyMap<string, HostTensor>, source: string, what: string): Map<string, Float32Array> {
  const store = new Map<string, Float32Array>();
  const problems: string[] = [];
  const needed = [...wanted];
  // Suggestions come from tensors the model does not read (a file with other names).
  const read = new Set(needed.map(([name]) => name));
  const spare = [...file.keys()].filter((n) => !n.startsWith('optimizer/') && !read.has(n));
  for (const [name, shape] of needed) {
    const t = file.get(name);
    if (!t) {
      const guess = didYouMean(name, spare);
      problems.push(`missing ${name} [${shape.join(', ')}]${guess ? ` (the file has ${guess})` : ''}`);
    } else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`${name} is [${t.shape.join(', ')}] in the file, the model expects [${shape.join(', ')}]`);
    } else if (!/^(F64|F32|F16|BF16)$/.test(t.dtype)) {
      problems.push(`${name} is ${t.dtype}, a float type is needed`);
    } else store.set(name, toFloat32(t));
  }
  if (problems.length > 0) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new DataError(`${source} does not fit ${what}: ${problems.slice(0, 5).join('; ')}${more}`);
  }
  return store;
}
