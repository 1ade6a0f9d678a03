// `cnnc visualize FILE --weights W --data SPEC --layer NAME -o DIR`: what a layer's units respond
// to. For each of the first N units, the nine data-set patches (each cropped to the unit's
// receptive field) whose strongest response is largest, as a 3x3 grid (DIR/unit_<k>.png); all of
// them in DIR/units.png; for a convolution that reads the input, its filters (DIR/filters.png);
// the hits themselves in DIR/top9.json.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InputNode, LayerNode, ModelGraph } from '../compiler/graph.ts';
import { leavesOf, pruneProgram, type IrProgram } from '../compiler/ir/program.ts';
import { lowerModel } from '../compiler/lower/lower.ts';
import { receptiveFields, type ReceptiveField } from '../compiler/receptive-field.ts';
import { fitCenter } from '../runtime/data/augment.ts';
import { repeatedRunner } from '../runtime/executor.ts';
import type { Dataset } from '../runtime/data/dataset.ts';
import { loadFeedData } from '../runtime/data/feed-data.ts';
import { tileImages, upscaleFor } from '../runtime/images/grid.ts';
import { encodePng, type ChwImage } from '../runtime/images/png.ts';
import { padBatch } from '../runtime/pad-batch.ts';
import { shapeToString, toFloat32 } from '../runtime/tensor.ts';
import { pickExecutor } from '../runtime/train/create-session.ts';
import { cropPatch, filterImages, patchBox, TopPatches, type UnitHit } from '../runtime/visualize/top-patches.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { VISUALIZE } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun, parseBackend } from './model-input.ts';
import { parseNumberOption } from './numbers.ts';

const TOP = 9;

function findLayer(graph: ModelGraph, name: string): LayerNode {
  const layer = graph.layers.find((l) => l.name === name);
  if (!layer) {
    const maps = graph.layers.filter((l) => l.shape.length === 3).map((l) => l.name);
    throw new UsageError(`model ${graph.name} has no layer '${name}'; layers with feature maps: ${maps.slice(0, 12).join(', ')}${maps.length > 12 ? ', ...' : ''}`);
  }
  if (layer.shape.length !== 3) throw new UsageError(`layer ${name} is ${shapeToString(layer.shape)}, not an H x W x C feature map`);
  return layer;
}

/** The image input the layer reads, and a program computing the layer for `batch` examples. */
function layerProgram(graph: ModelGraph, layer: LayerNode, batch: number): { program: IrProgram; input: InputNode } {
  const lowered = lowerModel(graph, { batch, mode: 'eval' });
  const program = pruneProgram({ nodes: lowered.builder.nodes, outputs: new Map([['layer', lowered.values.get(layer.name)!]]), updates: [] });
  const feeds = leavesOf(program, 'feed').map((l) => l.name);
  const input = graph.inputs.find((i) => i.name === feeds[0]);
  if (feeds.length !== 1 || !input || input.shape.length !== 3) {
    throw new UsageError(`layer ${layer.name} must read exactly one image input, it reads ${feeds.join(', ') || 'none'}`);
  }
  return { program, input };
}

/** Example i as the model sees it: centre-fitted to the input's size, as training fits it. */
function exampleImage(data: Dataset, i: number, input: InputNode): ChwImage {
  const [height, width, channels] = input.shape as [number, number, number];
  const [c, h, w] = data.shape;
  if (c !== channels) throw new UsageError(`the data has ${c} channel(s), input ${input.name} takes ${channels}`);
  const image = data.get(i).image;
  return { data: h === height && w === width ? image : fitCenter(image, data.shape, height, width), channels, height, width };
}

function writePng(path: string, image: ChwImage): void {
  writeFileAtomic(path, encodePng(image));
}

export async function runVisualize(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(VISUALIZE, argv);
  expectOneFile(VISUALIZE, positionals);
  for (const flag of ['weights', 'data', 'layer', 'output'] as const) if (!values[flag]) throw new UsageError(`missing --${flag}; see cnnc visualize --help`);
  const unitsWanted = parseNumberOption('units', values.units, 8, { integer: true, min: 1 });
  const batchWanted = parseNumberOption('batch', values.batch, 64, { integer: true, min: 1 });
  const backend = parseBackend(values.backend);
  const graph = compileForRun(positionals[0]!, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const layer = findLayer(graph, values.layer!);
  const rf = receptiveFields(graph).get(layer.name) as ReceptiveField;

  const loaded = loadFeedData(values.data!);
  if (loaded.kind !== 'images') throw new UsageError(`--data ${values.data}: visualize needs images (folders, IDX, images/labels safetensors)`);
  const data = loaded.data.train;
  const count = Math.min(data.length, parseNumberOption('limit', values.limit, data.length, { integer: true, min: 1 }));
  const batch = Math.min(batchWanted, count);
  const { program, input } = layerProgram(graph, layer, batch);
  const weights = await readWeightsFor(graph, values.weights!);
  const store = new Map<string, Float32Array>();
  for (const leaf of [...leavesOf(program, 'param'), ...leavesOf(program, 'state')]) {
    const t = weights.tensors.get(leaf.name);
    if (!t) throw new UsageError(`${values.weights} has no tensor '${leaf.name}' ${shapeToString(leaf.shape)}`);
    if (t.shape.join() !== leaf.shape.join()) throw new UsageError(`${values.weights}: '${leaf.name}' is ${shapeToString(t.shape)}, the model needs ${shapeToString(leaf.shape)}`);
    store.set(leaf.name, toFloat32(t));
  }
  const [fh, fw, channels] = layer.shape as [number, number, number];
  const units = Math.min(unitsWanted, channels);
  const top = new TopPatches(units, TOP);
  const { executor, device, close } = await pickExecutor(backend);
  process.stderr.write(`visualize ${graph.name}.${layer.name} (${shapeToString(layer.shape)}, receptive field ${rf.size.join('x')}, stride ${rf.stride.join('x')}) over ${count} examples on ${device}\n`);
  try {
    const prepared = await executor.prepare(program);
    try {
      const run = repeatedRunner(prepared, store);
      const size = input.shape.reduce((a, b) => a * b, 1);
      for (let first = 0; first < count; first += batch) {
        const n = Math.min(batch, count - first);
        const rows = new Float32Array(n * size);
        for (let j = 0; j < n; j++) rows.set(exampleImage(data, first + j, input).data, j * size);
        const feed = padBatch(rows, n, batch, size);
        const out = (await run(new Map([[input.name, feed]]))).get('layer')!;
        top.add(out, [n, channels, fh, fw], first);
      }
    } finally {
      prepared.dispose();
    }
  } finally {
    close();
  }

  const dir = resolve(values.output!);
  mkdirSync(dir, { recursive: true });
  const hits = top.result();
  const scale = upscaleFor(rf.size[0]!, rf.size[1]!, 64);
  const unitGrids = hits.map((list) => tileImages(list.map((h: UnitHit) => cropPatch(exampleImage(data, h.example, input), patchBox(rf, h.y, h.x))), { columns: 3, scale, gap: 2 }));
  unitGrids.forEach((g, k) => writePng(join(dir, `unit_${String(k).padStart(3, '0')}.png`), g));
  writePng(join(dir, 'units.png'), tileImages(unitGrids, { columns: Math.min(4, units), gap: 8, background: 0.2 }));
  // The first layer's filters are pictures too: a convolution reading the input (or its activation).
  const conv = layer.attrs.op === 'conv' ? layer : graph.layers.find((l) => l.name === layer.inputs[0] && l.attrs.op === 'conv');
  const written = [`${units} unit grids`, 'units.png'];
  if (conv && conv.inputs[0] === input.name && conv.params[0]) {
    const w = conv.params[0];
    const filters = filterImages(store.get(w.name)!, w.shape, units);
    writePng(join(dir, 'filters.png'), tileImages(filters, { columns: Math.min(8, filters.length), scale: upscaleFor(w.shape[2]!, w.shape[3]!, 48), gap: 4 }));
    written.push('filters.png');
  }
  const json = { model: graph.name, layer: layer.name, receptiveField: { size: rf.size, stride: rf.stride }, examples: count, units: hits };
  writeFileAtomic(join(dir, 'top9.json'), `${JSON.stringify(json, null, 1)}\n`);
  written.push('top9.json');
  process.stdout.write(`${written.join(', ')} -> ${values.output}\n`);
  return EXIT_OK;
}
