// An encoder: a model's forward pass from one image input to one layer, as an IR program of its
// own. The encoding is the layer the user names, else the model's declared output when it reads a
// single image input, else the last layer computed from the first image input alone, so the
// encoder of a Siamese or triplet model (towers sharing weights) is its first tower.

import { didYouMean } from '../../grammar/diagnostics.ts';
import type { InputNode, ModelGraph } from '../../compiler/graph.ts';
import { pruneProgram, leavesOf, type IrProgram } from '../../compiler/ir/program.ts';
import { lowerModel, SEED_FEED } from '../../compiler/lower/lower.ts';
import { irShape } from '../../compiler/lower/layout.ts';
import { fitCenter } from '../data/augment.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Executor, PreparedProgram, TensorStore } from '../executor.ts';
import { fitWeights } from '../fit-weights.ts';
import { padBatch } from '../pad-batch.ts';
import type { HostTensor } from '../tensor.ts';
import { FaceError, type Encodings } from './verification.ts';

/** The layer an encoder returns and the image input it reads. */
export interface EncodingChoice {
  readonly layer: string;
  readonly input: InputNode;
}

/** Image inputs (not trainable) each layer depends on. */
function inputsOf(graph: ModelGraph): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const i of graph.inputs) if (!i.trainable) deps.set(i.name, new Set([i.name]));
  for (const l of graph.layers) {
    const s = new Set<string>();
    for (const name of l.inputs) for (const d of deps.get(name) ?? []) s.add(d);
    deps.set(l.name, s);
  }
  return deps;
}

export function chooseEncoding(graph: ModelGraph, output?: string): EncodingChoice {
  const deps = inputsOf(graph);
  const inputNamed = (name: string) => graph.inputs.find((i) => i.name === name)!;
  const single = (layer: string): EncodingChoice | undefined => {
    const d = deps.get(layer);
    return d && d.size === 1 ? { layer, input: inputNamed([...d][0]) } : undefined;
  };
  if (output !== undefined) {
    // A tower's name (`a` for `a = encoder(anchor)`) stands for its last layer.
    const layer = graph.layers.some((l) => l.name === output) ? output : [...graph.layers].reverse().find((l) => l.name.startsWith(`${output}.`))?.name;
    if (!layer) {
      const guess = didYouMean(output, graph.layers.map((l) => l.name));
      throw new FaceError(`--output: model ${graph.name} has no layer '${output}'${guess ? `; did you mean '${guess}'?` : ''}`);
    }
    const choice = single(layer);
    if (!choice) throw new FaceError(`--output ${output}: layer ${layer} reads ${deps.get(layer)?.size ?? 0} image inputs; an encoding must come from exactly one`);
    return choice;
  }
  for (const o of graph.outputs) {
    const choice = single(o);
    if (choice) return choice;
  }
  const first = graph.inputs.find((i) => !i.trainable);
  if (!first) throw new FaceError(`model ${graph.name} has no image input`);
  const last = [...graph.layers].reverse().find((l) => deps.get(l.name)?.size === 1 && deps.get(l.name)!.has(first.name));
  if (!last) throw new FaceError(`model ${graph.name} has no layer computed from input ${first.name}`);
  return { layer: last.name, input: first };
}

/** Output name of the encoding in programs built here. */
export const ENCODING_OUTPUT = 'encoding';

/**
 * The forward pass from the chosen input to the encoding. `train` mode normalises with batch
 * statistics (what a training step sees); `eval` uses running statistics. No updates either way.
 */
export function buildEncodingProgram(graph: ModelGraph, choice: EncodingChoice, batch: number, mode: 'train' | 'eval'): IrProgram {
  const m = lowerModel(graph, { batch, mode });
  const value = m.values.get(choice.layer)!;
  return pruneProgram({ nodes: m.builder.nodes, outputs: new Map([[ENCODING_OUTPUT, value]]), updates: [] });
}

/** [C, H, W] of the chosen input, which encoders read as images. */
export function imageShape(choice: EncodingChoice): readonly [number, number, number] {
  const s = irShape(choice.input.shape, 1);
  if (s.length !== 4) throw new FaceError(`input ${choice.input.name} is ${choice.input.shape.join(' x ')}, not an H x W x C image`);
  return [s[1], s[2], s[3]];
}

/** Fits a data set's images to the encoder's size: equal, or smaller and centred with zero padding. */
export function imageFitter(data: Dataset, shape: readonly [number, number, number]): (image: Float32Array) => Float32Array {
  const [c, h, w] = data.shape;
  if (c !== shape[0]) throw new FaceError(`the data has ${c} channel(s), the model expects ${shape[0]}`);
  if (h === shape[1] && w === shape[2]) return (image) => image;
  if (h > shape[1] || w > shape[2]) throw new FaceError(`the data's ${h}x${w} images are larger than the model's ${shape[1]}x${shape[2]}; give the size in the spec (folder:PATH@${shape[1]}x${shape[2]}x${c})`);
  return (image) => fitCenter(image, data.shape, shape[1], shape[2]);
}

/** Encodings of every example of a data set, with their labels. */
export async function encodeDataset(encoder: Encoder, data: Dataset): Promise<{ encodings: Encodings; labels: Int32Array }> {
  const fit = imageFitter(data, encoder.shape);
  const size = encoder.shape[0] * encoder.shape[1] * encoder.shape[2];
  const images = new Float32Array(data.length * size);
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const e = data.get(i);
    images.set(fit(e.image), i * size);
    labels[i] = e.label;
  }
  return { encodings: await encoder.encode(images, data.length), labels };
}

/** The tensors `program` reads, from a weights file by name (every problem listed in one error). */
export function weightsForProgram(program: IrProgram, file: ReadonlyMap<string, HostTensor>, source: string, what: string): TensorStore {
  const wanted = leavesOf(program)
    .filter((leaf) => leaf.role !== 'feed')
    .map((leaf) => [leaf.name, leaf.shape] as const);
  return fitWeights(wanted, file, source, what);
}

export interface Encoder {
  readonly choice: EncodingChoice;
  /** [C, H, W] of one image. */
  readonly shape: readonly [number, number, number];
  readonly dim: number;
  readonly batch: number;
  /** Encodings of `count` images stored one after another (CHW each). */
  encode(images: Float32Array, count: number): Promise<Encodings>;
  dispose(): void;
}

/** Prepares an encoding program (eval mode) on an executor with the given weights. */
export async function openEncoder(graph: ModelGraph, choice: EncodingChoice, store: TensorStore, executor: Executor, batch: number): Promise<Encoder> {
  const program = buildEncodingProgram(graph, choice, batch, 'eval');
  const prepared: PreparedProgram = await executor.prepare(program);
  const shape = imageShape(choice);
  const size = shape[0] * shape[1] * shape[2];
  const outShape = program.nodes[program.outputs.get(ENCODING_OUTPUT)!]!.shape;
  const dim = outShape.slice(1).reduce((a, b) => a * b, 1);
  const needsSeed = leavesOf(program, 'feed').some((l) => l.name === SEED_FEED);
  return {
    choice,
    shape,
    dim,
    batch,
    async encode(images, count) {
      const data = new Float32Array(count * dim);
      for (let start = 0; start < count; start += batch) {
        const n = Math.min(batch, count - start);
        const chunk = padBatch(images.subarray(start * size, (start + n) * size), n, batch, size);
        const feeds = new Map([[choice.input.name, chunk]]);
        if (needsSeed) feeds.set(SEED_FEED, new Float32Array(1));
        const out = (await prepared.run(feeds, store)).get(ENCODING_OUTPUT)!;
        data.set(out.subarray(0, n * dim), start * dim);
      }
      for (const v of data) if (!Number.isFinite(v)) throw new FaceError('the encoder produced a non-finite value (NaN or infinity): check the weights');
      return { data, count, dim };
    },
    dispose: () => prepared.dispose(),
  };
}
