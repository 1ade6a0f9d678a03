// Lowers a typed layer graph (ModelGraph) to the op IR for a fixed batch size: forward values of
// every layer, the scalar loss, the trainable leaves and the running-statistics updates.

import type { LayerNode, LossTerm, ModelGraph, ParamSpec } from '../graph.ts';
import { GraphBuilder, IrError } from '../ir/build.ts';
import type { IrUpdate } from '../ir/program.ts';
import type { LoweringContext } from '../layers/definition.ts';
import { definitionOf } from '../layers/index.ts';
import { irShape } from './layout.ts';
import { LOSS_LOWERING, type LossContext } from './losses.ts';
import { ProgramRequestError } from '../program-request-error.ts';

export interface LowerOptions {
  readonly batch: number;
  readonly mode: 'train' | 'eval';
}

export interface TrainableLeaf {
  /** Name in weight files: `<layer>.weight`, or the input's name for a trainable input. */
  readonly name: string;
  readonly node: number;
  readonly role: ParamSpec['role'] | 'input';
}

export interface LoweredModel {
  readonly builder: GraphBuilder;
  /** IR node of every layer and input, by name. */
  readonly values: ReadonlyMap<string, number>;
  /** The scalar loss, when the model declares one. */
  readonly loss?: number;
  /** Each loss term's unweighted scalar value, in the order of `graph.loss`. */
  readonly terms: readonly number[];
  readonly trainable: readonly TrainableLeaf[];
  /** Every parameter and state tensor the program reads, in PyTorch layout, by name. */
  readonly persistent: ReadonlyMap<string, readonly number[]>;
  /** Per-batch inputs: images, labels/targets, the dropout seed. */
  readonly feeds: ReadonlyMap<string, readonly number[]>;
  /** Running-average updates of batchnorm (train mode). */
  readonly updates: readonly IrUpdate[];
}

/** The name of the per-step dropout seed feed (an exact integer as f32, shape []). */
export const SEED_FEED = 'dropout_seed';

/** What IR nodes of the loss terms are credited to (IrNode.layer). */
export const LOSS_LAYER = 'loss';

export function lowerModel(graph: ModelGraph, options: LowerOptions): LoweredModel {
  const { batch, mode } = options;
  if (!Number.isInteger(batch) || batch < 1) throw new ProgramRequestError(`batch size must be a positive integer, got ${batch}`);
  const b = new GraphBuilder();
  const specs = new Map<string, ParamSpec>();
  for (const layer of graph.layers) for (const p of layer.params) specs.set(p.name, p);
  const values = new Map<string, number>();
  const trainable: TrainableLeaf[] = [];
  const persistent = new Map<string, readonly number[]>();
  const feeds = new Map<string, readonly number[]>();
  const updates: IrUpdate[] = [];
  /** Layers that are a softmax or a sigmoid: the activation and the node it was applied to. */
  const activationInputs = new Map<string, { readonly op: string; readonly input: number }>();
  const salts = new Map<string, number>();
  const owners = new Map(graph.layers.map((l) => [l.name, l] as const));

  for (const input of graph.inputs) {
    const shape = irShape(input.shape, batch);
    if (input.trainable) {
      const node = b.leaf(input.name, 'param', shape);
      persistent.set(input.name, shape);
      trainable.push({ name: input.name, node, role: 'input' });
      values.set(input.name, node);
    } else {
      values.set(input.name, b.leaf(input.name, 'feed', shape));
      feeds.set(input.name, shape);
    }
  }

  const ctx: LoweringContext = {
    b,
    batch,
    mode,
    updates,
    param(name) {
      const spec = specs.get(name);
      if (!spec) throw new IrError(`parameter '${name}' is not declared by any layer`);
      const existing = b.findLeaf(name);
      if (existing !== undefined) return existing;
      const node = b.leaf(name, 'param', spec.shape);
      persistent.set(name, spec.shape);
      if (spec.trainable) trainable.push({ name, node, role: spec.role });
      return node;
    },
    state(name) {
      const spec = specs.get(name);
      if (!spec) throw new IrError(`state '${name}' is not declared by any layer`);
      persistent.set(name, spec.shape);
      return b.leaf(name, 'state', spec.shape);
    },
    seed() {
      feeds.set(SEED_FEED, []);
      return b.leaf(SEED_FEED, 'feed', []);
    },
    ownerParams(layer: LayerNode) {
      return owners.get(layer.paramOwner)?.params ?? layer.params;
    },
    salt(layer: LayerNode) {
      if (!salts.has(layer.name)) salts.set(layer.name, salts.size + 1);
      return salts.get(layer.name)!;
    },
  };

  for (const layer of graph.layers) {
    const inputs = layer.inputs.map((name) => {
      const v = values.get(name);
      if (v === undefined) throw new IrError(`layer ${layer.name} reads '${name}', which is not defined before it`);
      return v;
    });
    const out = b.within(layer.name, () => definitionOf(layer.attrs).lower(ctx, layer, layer.attrs, inputs));
    const want = irShape(layer.shape, batch);
    const got = b.shape(out);
    if (want.join() !== got.join()) {
      throw new IrError(`layer ${layer.name} (${layer.attrs.op}) lowered to [${got.join(', ')}], the checker says [${want.join(', ')}]`);
    }
    if (layer.attrs.op === 'softmax' || layer.attrs.op === 'sigmoid') activationInputs.set(layer.name, { op: layer.attrs.op, input: inputs[0]! });
    values.set(layer.name, out);
  }

  const lossCtx: LossContext = {
    b,
    batch,
    value(name) {
      const v = values.get(name);
      if (v === undefined) throw new IrError(`loss reads '${name}', which is no layer or input`);
      return v;
    },
    logitsOf: (name, activation) => {
      const a = activationInputs.get(name);
      return a?.op === activation ? a.input : undefined;
    },
    target(term: LossTerm) {
      if (!term.target) throw new IrError(`${term.fn} needs a target but declares none`);
      const shape = irShape(term.target.shape, batch);
      feeds.set(term.target.name, shape);
      return b.leaf(term.target.name, 'feed', shape);
    },
    weights: () => trainable.filter((t) => t.role === 'weight').map((t) => t.node),
  };
  let loss: number | undefined;
  const terms: number[] = [];
  for (const term of graph.loss) {
    const lower = LOSS_LOWERING[term.fn];
    if (!lower) throw new IrError(`loss '${term.fn}' is not supported by the IR yet`);
    b.within(LOSS_LAYER, () => {
      const unweighted = lower(lossCtx, term);
      terms.push(unweighted);
      const value = b.affine(unweighted, term.weight, 0);
      loss = loss === undefined ? value : b.binary('add', loss, value);
    });
  }
  return { builder: b, values, loss, terms, trainable, persistent, feeds, updates };
}
