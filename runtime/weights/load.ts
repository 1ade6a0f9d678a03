// Reading a weights file for a model, whatever names it was saved under: the model's own names,
// or another framework's, translated by the name maps its `.cnn` file carries (name-map.ts).
// Every command that loads weights (train --weights, eval, predict, grad) goes through here.

import { existsSync, readFileSync } from 'node:fs';
import type { ModelGraph } from '../../compiler/graph.ts';
import { readWeightsFile } from '../checkpoint.ts';
import type { HostTensor } from '../tensor.ts';
import { readKerasH5 } from './keras-h5.ts';
import { reorderChannels } from './channel-order.ts';
import { matchRule, NameMapError, parseNameMaps, type NameMap } from './name-map.ts';

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
    const { name: to, rule } = matchRule(name, map);
    if (out.has(to)) throw new NameMapError(`${map.where}: two tensors of the file map to '${to}' (one is '${name}')`);
    out.set(to, rule?.channels ? reorderChannels(t, rule.channels, name) : t);
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

/**
 * Keras flattens H x W x C maps channel-last: a dense layer after a flatten of a spatial map
 * reads its inputs in (h, w, c) order, cnnc's in (c, h, w). Reorders such weights' columns.
 */
function kerasFlattenOrder(graph: ModelGraph, tensors: Map<string, HostTensor>): void {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  for (const layer of graph.layers) {
    const flat = byName.get(layer.inputs[0] ?? '');
    if (layer.attrs.op !== 'dense' || flat?.attrs.op !== 'flatten') continue;
    const map = flat.inputShapes[0]!;
    const channels = map[map.length - 1]!;
    const cells = map.slice(0, -1).reduce((a, b) => a * b, 1);
    const name = layer.params.find((p) => p.role === 'weight')?.name;
    const w = name === undefined ? undefined : tensors.get(name);
    if (cells === 1 || !w || w.dtype !== 'F32' || w.shape[1] !== cells * channels) continue;
    const from = w.data as Float32Array;
    const to = new Float32Array(from.length);
    const width = cells * channels;
    for (let o = 0; o < w.shape[0]!; o++) {
      for (let s = 0; s < cells; s++) for (let c = 0; c < channels; c++) to[o * width + c * cells + s] = from[o * width + s * channels + c]!;
    }
    tensors.set(name!, { ...w, data: to });
  }
}

/**
 * Reads weights for `graph` (F32 and finite, every tensor: a NaN weight would load silently and
 * hide behind a ReLU), translating foreign names: safetensors (weights or a checkpoint),
 * or Keras HDF5 (`.h5`, `.hdf5`; layouts converted to PyTorch's, runtime/weights/keras-h5.ts).
 */
export async function readWeightsFor(graph: ModelGraph, path: string): Promise<LoadedWeights> {
  if (!/\.(h5|hdf5)$/i.test(path)) return toModelNames(graph, readWeightsFile(path), path);
  const loaded = toModelNames(graph, await readKerasH5(path), path);
  kerasFlattenOrder(graph, loaded.tensors);
  return loaded;
}
