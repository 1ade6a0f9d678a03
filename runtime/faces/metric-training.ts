// Metric learning from class folders (identities):
//   triplet  a model with a `triplet` loss over a shared encoder (FaceNetTriplet): each step draws
//            P identities x K images, encodes them with the current weights (the anchor tower,
//            batch statistics as in the step), mines one triplet per image on the host
//            (mining.ts) and runs the compiled step on the P*K (anchor, positive, negative) rows;
//            the margin is the loss's alpha
//   pairs    a Siamese model with a binary_cross_entropy loss (FaceVerification): each step draws
//            balanced same/different pairs, target 1 for the same identity
// Mining runs on the host because the step's batch is static and the IR has no data-dependent
// gather: the mined indices choose which images fill the step's three inputs.

import type { ModelGraph } from '../../compiler/graph.ts';
import { SEED_FEED } from '../../compiler/lower/lower.ts';
import { saveCheckpoint } from '../checkpoint.ts';
import { materialize, type Dataset } from '../data/dataset.ts';
import { Rng } from '../data/random.ts';
import type { Executor, PreparedProgram, TensorStore } from '../executor.ts';
import { initialWeights } from '../init.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { buildTrainStep, type TrainStep } from '../../compiler/optim/train-step.ts';
import type { HostTensor } from '../tensor.ts';
import { buildEncodingProgram, chooseEncoding, ENCODING_OUTPUT, imageFitter, imageShape } from './encoder.ts';
import { mineTriplets, type MiningStrategy } from './mining.ts';
import { checkPk, indicesByClass, pairBatch, pkBatch } from './sampling.ts';
import { FaceError, squaredDistanceMatrix } from './verification.ts';

export type MetricKind = { readonly kind: 'triplet'; readonly margin: number; readonly inputs: readonly [string, string, string] } | { readonly kind: 'pairs'; readonly inputs: readonly [string, string]; readonly target: string };

/**
 * How a model trains from identities, or undefined when it is not a metric-learning model this
 * loop handles (the general training loop takes any other loss, e.g. a triplet term plus others).
 */
export function metricKind(graph: ModelGraph): MetricKind | undefined {
  const images = graph.inputs.filter((i) => !i.trainable).map((i) => i.name);
  if (graph.loss.length !== 1) return undefined;
  const [term] = graph.loss;
  if (term.fn === 'triplet') {
    // The triplet's three arguments, traced back to the image inputs they are computed from.
    const inputs: string[] = [];
    for (const arg of term.args) {
      try {
        inputs.push(chooseEncoding(graph, arg).input.name);
      } catch {
        return undefined;
      }
    }
    if (inputs.length !== 3 || new Set(inputs).size !== 3) return undefined;
    return { kind: 'triplet', margin: term.options.alpha ?? 0.2, inputs: inputs as [string, string, string] };
  }
  if (term.fn === 'binary_cross_entropy' && images.length === 2 && term.target) return { kind: 'pairs', inputs: [images[0], images[1]], target: term.target.name };
  return undefined;
}

export interface MetricTrainingOptions {
  readonly identities: number;
  readonly perIdentity: number;
  readonly mining: MiningStrategy;
  readonly epochs: number;
  /** Steps per epoch (default: as many P*K batches as the data has images). */
  readonly stepsPerEpoch?: number;
  readonly optimizer: OptimizerConfig;
  readonly seed: number;
  readonly checkpoint?: string;
  readonly info?: Record<string, string | number>;
  readonly onStep?: (s: StepReport) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
  /** Continue from a checkpoint this loop wrote: its tensors, epochs done, steps and RNG state. */
  readonly resume?: { readonly tensors: ReadonlyMap<string, Float32Array>; readonly epoch: number; readonly step: number; readonly rng: string };
}

export interface StepReport {
  readonly epoch: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Triplets only: fraction of the mined triplets with a positive loss before the step. */
  readonly active?: number;
  readonly images: number;
}

export interface EpochSummary {
  readonly epoch: number;
  readonly loss: number;
  readonly active?: number;
  readonly seconds: number;
}

export interface MetricTrainingResult {
  readonly weights: Map<string, Float32Array>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly epochs: readonly EpochSummary[];
}

function gather(read: (i: number) => Float32Array, indices: ArrayLike<number>, size: number): Float32Array {
  const out = new Float32Array(indices.length * size);
  for (let j = 0; j < indices.length; j++) out.set(read(indices[j]), j * size);
  return out;
}

export async function trainMetric(graph: ModelGraph, dataset: Dataset, executor: Executor, options: MetricTrainingOptions): Promise<MetricTrainingResult> {
  const kind = metricKind(graph);
  if (!kind) throw new FaceError(`model ${graph.name} has neither a triplet loss nor a Siamese binary_cross_entropy loss`);
  const data = materialize(dataset);
  const { identities: p, perIdentity: k } = options;
  const batch = p * k;
  const classes = indicesByClass(data.labels, 2);
  if (kind.kind === 'triplet') checkPk(classes, p, k);
  else if (classes.length < 2) throw new FaceError(`pairs need two identities with at least two images each; the data has ${classes.length}`);

  const step: TrainStep = buildTrainStep(graph, batch, options.optimizer);
  const train: PreparedProgram = await executor.prepare(step.program);
  const encodeChoice = chooseEncoding(graph, graph.loss.find((t) => t.fn === 'triplet')?.args[0]);
  const shape = imageShape(encodeChoice);
  const size = shape[0] * shape[1] * shape[2];
  const fit = imageFitter(data, shape);
  const read = (i: number) => fit(data.get(i).image);
  const mine = kind.kind === 'triplet' ? await executor.prepare(buildEncodingProgram(graph, encodeChoice, batch, 'train')) : undefined;

  const initial = initialWeights(graph, options.seed);
  const store: TensorStore = new Map();
  for (const [name, s] of step.persistent) {
    const size = s.reduce((a, b) => a * b, 1);
    const saved = options.resume?.tensors.get(name);
    if (options.resume && saved?.length !== size) throw new FaceError(`the checkpoint to resume has no tensor '${name}' of ${size} values; was it written by this model's triplet or pair training?`);
    store.set(name, saved ? saved.slice() : initial.get(name) ?? new Float32Array(size));
  }
  const rng = options.resume ? Rng.fromState(options.resume.rng) : Rng.seeded(options.seed, 0x7e1);
  const stepsPerEpoch = options.stepsPerEpoch ?? Math.max(1, Math.floor(data.length / batch));
  const epochs: EpochSummary[] = [];
  let stepCount = options.resume?.step ?? 0;
  const seedFeed = () => new Float32Array([(options.seed * 1_000_003 + stepCount) % 16_777_216]);

  try {
    for (let epoch = options.resume?.epoch ?? 0; epoch < options.epochs; epoch++) {
      const started = performance.now();
      let lossSum = 0;
      let activeSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const feeds = new Map<string, Float32Array>();
        let active: number | undefined;
        if (kind.kind === 'triplet') {
          const drawn = pkBatch(classes, p, k, rng);
          const images = gather((i) => read(i), drawn.indices, size);
          const encFeeds = new Map([[encodeChoice.input.name, images]]);
          if (mine!.program.nodes.some((n) => n.attrs.op === 'leaf' && n.attrs.name === SEED_FEED)) encFeeds.set(SEED_FEED, seedFeed());
          const enc = (await mine!.run(encFeeds, store)).get(ENCODING_OUTPUT)!;
          const dist = squaredDistanceMatrix({ data: enc, count: batch, dim: enc.length / batch });
          const mined = mineTriplets(dist, drawn.labels, kind.margin, options.mining, rng);
          active = mined.active;
          const rows = (pick: (t: (typeof mined.triplets)[number]) => number) => {
            const out = new Float32Array(batch * size);
            mined.triplets.forEach((t, j) => out.set(images.subarray(pick(t) * size, (pick(t) + 1) * size), j * size));
            return out;
          };
          feeds.set(kind.inputs[0], rows((t) => t.anchor));
          feeds.set(kind.inputs[1], rows((t) => t.positive));
          feeds.set(kind.inputs[2], rows((t) => t.negative));
        } else {
          const pairs = pairBatch(classes, batch, rng);
          feeds.set(kind.inputs[0], gather(read, pairs.first, size));
          feeds.set(kind.inputs[1], gather(read, pairs.second, size));
          feeds.set(kind.target, pairs.same);
        }
        if (step.feeds.has(SEED_FEED)) feeds.set(SEED_FEED, seedFeed());
        const out = await train.run(feeds, store);
        stepCount++;
        const loss = out.get('loss')![0];
        if (!Number.isFinite(loss)) throw new FaceError(`the loss became ${loss} at step ${stepCount} (epoch ${epoch + 1}); training stopped. Try a lower --lr.`);
        lossSum += loss;
        if (active !== undefined) activeSum += active;
        options.onStep?.({ epoch: epoch + 1, step: s + 1, steps: stepsPerEpoch, loss: lossSum / (s + 1), ...(active !== undefined ? { active: activeSum / (s + 1) } : {}), images: batch });
        await new Promise((resolve) => setImmediate(resolve));
      }
      const summary: EpochSummary = {
        epoch: epoch + 1,
        loss: lossSum / stepsPerEpoch,
        ...(kind.kind === 'triplet' ? { active: activeSum / stepsPerEpoch } : {}),
        seconds: (performance.now() - started) / 1000,
      };
      epochs.push(summary);
      if (options.checkpoint) writeCheckpoint(options.checkpoint, store, step, { epoch: epoch + 1, step: stepCount, rng: rng.state() }, options.info ?? {});
      options.onEpoch?.(summary);
    }
  } finally {
    train.dispose();
    mine?.dispose();
  }
  const weights = new Map([...store].filter(([name]) => !step.optimizerState.has(name)));
  return { weights, shapes: step.persistent, epochs };
}

function writeCheckpoint(path: string, store: TensorStore, step: TrainStep, at: { epoch: number; step: number; rng: string }, info: Record<string, string | number>): void {
  const host = (names: (n: string) => boolean) => {
    const out = new Map<string, HostTensor>();
    for (const [name, data] of store) if (names(name)) out.set(name, { dtype: 'F32', shape: [...step.persistent.get(name)!], data: data.slice() });
    return out;
  };
  saveCheckpoint(path, {
    weights: host((n) => !step.optimizerState.has(n)),
    optimizer: host((n) => step.optimizerState.has(n)),
    position: { epoch: at.epoch, step: at.step, batchInEpoch: 0, rng: at.rng },
    info,
  });
}
