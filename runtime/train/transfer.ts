// Transfer learning as the course teaches it: load pretrained weights by name (reporting what is
// missing, unexpected or of another shape, such as a replaced head), and freeze the network up to
// a layer so only the layers after it train.

import type { LayerNode, ModelGraph } from '../../compiler/graph.ts';
import { didYouMean } from '../../grammar/diagnostics.ts';
import type { HostTensor } from '../tensor.ts';
import { SessionError } from './create-session.ts';
import type { SessionState } from './session.ts';

export interface WeightMatch {
  readonly state: SessionState;
  /** Model weights the file does not have: they keep their initial values. */
  readonly missing: readonly string[];
  /** File tensors the model has no place for. */
  readonly unexpected: readonly string[];
  /** Same name, other shape (a replaced head): not loaded. */
  readonly reshaped: readonly { readonly name: string; readonly file: readonly number[]; readonly model: readonly number[] }[];
}

/** Matches a weights file against the model's weights by name and shape. */
export function matchWeights(file: ReadonlyMap<string, HostTensor>, model: ReadonlyMap<string, readonly number[]>, optimizerNames: ReadonlySet<string>): WeightMatch {
  const weights = new Map<string, Float32Array>();
  const missing: string[] = [];
  const reshaped: WeightMatch['reshaped'][number][] = [];
  for (const [name, shape] of model) {
    if (optimizerNames.has(name)) continue;
    const t = file.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    if (t.dtype !== 'F32') throw new SessionError(`weights tensor '${name}' is ${t.dtype}; cnnc loads F32`);
    const sameShape = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    // Trainable inputs carry the batch axis in the model; a file may hold one example.
    if (!sameShape) reshaped.push({ name, file: t.shape, model: shape });
    else weights.set(name, t.data as Float32Array);
  }
  const unexpected = [...file.keys()].filter((n) => !model.has(n) && !n.startsWith('optimizer/'));
  return { state: { weights, optimizer: new Map() }, missing, unexpected, reshaped };
}

export function describeMatch(m: WeightMatch, modelNames: Iterable<string>): string[] {
  const lines: string[] = [`loaded ${m.state.weights.size} tensors`];
  const names = [...modelNames];
  if (m.missing.length) lines.push(`missing from the file (kept initial values): ${m.missing.join(', ')}`);
  for (const r of m.reshaped) lines.push(`not loaded, shape differs: ${r.name} is [${r.file.join(', ')}] in the file, [${r.model.join(', ')}] in the model`);
  for (const u of m.unexpected) {
    const guess = didYouMean(u, names);
    lines.push(`unexpected in the file (ignored): ${u}${guess ? ` (did you mean ${guess}?)` : ''}`);
  }
  return lines;
}

/** The graph with every layer up to and including `last` frozen (no gradient, no update). */
export function freezeUntil(graph: ModelGraph, last: string): ModelGraph {
  const index = graph.layers.findIndex((l) => l.name === last);
  if (index < 0) {
    const guess = didYouMean(last, graph.layers.map((l) => l.name));
    throw new SessionError(`--freeze-until: model ${graph.name} has no layer '${last}'${guess ? `; did you mean '${guess}'?` : ''}`);
  }
  const frozenOwners = new Set(graph.layers.slice(0, index + 1).map((l) => l.paramOwner));
  const layers = graph.layers.map((l): LayerNode => {
    if (!frozenOwners.has(l.paramOwner)) return l;
    return { ...l, frozen: true, params: l.params.map((p) => ({ ...p, trainable: false })) };
  });
  return { ...graph, layers };
}
