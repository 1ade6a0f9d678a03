// Reading a weights file for a model, whatever names it was saved under: the model's own names,
// or another framework's, translated by the name maps its `.cnn` file carries (name-map.ts).
// Every command that loads weights (train --weights, eval, predict, grad) goes through here.

import { existsSync, readFileSync } from 'node:fs';
import type { ModelGraph } from '../../compiler/graph.ts';
import { readSafetensorsFile } from '../checkpoint.ts';
import type { HostTensor } from '../tensor.ts';
import { NameMapError, parseNameMaps, translateName, type NameMap } from './name-map.ts';

/** PyTorch's bookkeeping buffer (a step count): not a weight, cnnc keeps no such tensor. */
const IGNORED_SUFFIX = '.num_batches_tracked';

export interface LoadedWeights {
  /** Tensors under the model's names. */
  readonly tensors: Map<string, HostTensor>;
  /** The map that translated the file's names, when one did. */
  readonly map?: NameMap;
  /** One line for logs: how the names were read. */
  readonly note: string;
}

/** The sidecar that holds name maps for a `.cnn` file: the same path ending in `.names`. */
export function nameMapPath(cnnFile: string): string {
  return cnnFile.replace(/\.cnn$/, '') + '.names';
}

/** The name maps a model's file carries for it (none when the file has no `.names` sidecar). */
export function nameMapsFor(graph: ModelGraph): NameMap[] {
  const path = nameMapPath(graph.file);
  if (!existsSync(path)) return [];
  return parseNameMaps(readFileSync(path, 'utf8'), path).filter((m) => m.models.includes(graph.name));
}

/** Every tensor name the model reads from a weights file: parameters, running statistics, trainable inputs. */
export function modelWeightNames(graph: ModelGraph): Set<string> {
  const names = new Set<string>();
  for (const layer of graph.layers) for (const p of layer.params) names.add(p.name);
  for (const input of graph.inputs) if (input.trainable) names.add(input.name);
  return names;
}

function renamed(tensors: ReadonlyMap<string, HostTensor>, map: NameMap): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const to = translateName(name, map);
    if (out.has(to)) throw new NameMapError(`${map.where}: two tensors of the file map to '${to}' (one is '${name}')`);
    out.set(to, t);
  }
  return out;
}

function hits(names: Iterable<string>, wanted: ReadonlySet<string>): number {
  let n = 0;
  for (const name of names) if (wanted.has(name)) n++;
  return n;
}

/**
 * Puts `tensors` under the model's names: as they are when that fits best, else through the
 * model's name map that places the most of them.
 */
export function toModelNames(graph: ModelGraph, tensors: ReadonlyMap<string, HostTensor>, source: string): LoadedWeights {
  const kept = new Map([...tensors].filter(([name]) => !name.endsWith(IGNORED_SUFFIX)));
  const wanted = modelWeightNames(graph);
  let best: LoadedWeights = { tensors: kept, note: `${source}: ${graph.name}'s own names` };
  let bestHits = hits(kept.keys(), wanted);
  if (bestHits === wanted.size) return best;
  for (const map of nameMapsFor(graph)) {
    const candidate = renamed(kept, map);
    const n = hits(candidate.keys(), wanted);
    if (n > bestHits) {
      best = { tensors: candidate, map, note: `${source}: ${map.source} names, mapped by ${map.where}` };
      bestHits = n;
    }
  }
  return best;
}

/** Reads a safetensors weights file (or checkpoint) for `graph`, translating foreign names. */
export function readWeightsFor(graph: ModelGraph, path: string): LoadedWeights {
  return toModelNames(graph, readSafetensorsFile(path).tensors, path);
}
