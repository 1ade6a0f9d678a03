// The typed layer graph: what the front end (parse -> resolve/expand -> shapes) hands to every
// later stage (summary, lower, LSP). Shapes here are the course's notation without the batch:
// [H, W, C] for images, [L, C] for 1D signals, [D, H, W, C] for volumes, [N] for vectors.
// Parameter shapes follow PyTorch's layouts (conv OIHW / OIL / OIDHW, dense [out, in]).

import type { Span } from '../grammar/span.ts';
import type { FieldsOf } from './layers/definition.ts';
import type { LAYER_DEFINITIONS } from './layers/index.ts';

type LayerRegistry = typeof LAYER_DEFINITIONS;

/** A tensor shape without the batch dimension, channels last (the course's H x W x C). */
export type Shape = readonly number[];

/** Spatial rank of a convolution or pooling layer. */
export type SpatialRank = 1 | 2 | 3;

/**
 * Each layer op and its attributes besides `op`, read off the layer registry: a layer declares its
 * fields in its definition (compiler/layers/), and registering it there adds it here.
 */
export type LayerFields = { readonly [K in keyof LayerRegistry]: FieldsOf<LayerRegistry[K]> };

export type LayerOp = keyof LayerFields;

/** The attributes of layers of op `K` (of each op, for a union). */
export type AttrsOf<K extends LayerOp> = K extends LayerOp ? { readonly op: K } & LayerFields[K] : never;

export type LayerAttrs = AttrsOf<LayerOp>;


/** Role of a parameter tensor; decides its initialiser and whether the optimizer touches it. */
export type ParamRole = 'weight' | 'bias' | 'gamma' | 'beta' | 'running_mean' | 'running_var';

export interface ParamSpec {
  /** Full key as stored in safetensors: `<layer>.weight`, `<layer>.running_mean`, ... */
  readonly name: string;
  readonly role: ParamRole;
  /** PyTorch layout: conv [O, I, ...k], dense [out, in], per-channel vectors [C]. */
  readonly shape: Shape;
  /** False for running statistics and for parameters of frozen layers. */
  readonly trainable: boolean;
}

export interface InputNode {
  readonly name: string;
  readonly shape: Shape;
  /** The thing being optimised (style transfer's generated image). */
  readonly trainable: boolean;
  readonly span: Span;
  readonly doc?: string;
}

export interface LayerNode {
  /** Stable, unique name: the author's, or generated (`conv_3`); nested as `block.inner`. */
  readonly name: string;
  readonly attrs: LayerAttrs;
  /** Names of the producing layers or inputs, in argument order. */
  readonly inputs: readonly string[];
  readonly inputShapes: readonly Shape[];
  readonly shape: Shape;
  /**
   * The layer whose parameters this one uses. Equal to `name` except where one block instance is
   * applied to several inputs (Siamese towers): then every application points at the first.
   */
  readonly paramOwner: string;
  /** Parameters this layer owns (empty when it shares another layer's). */
  readonly params: readonly ParamSpec[];
  readonly macs: number;
  readonly frozen: boolean;
  readonly span: Span;
  readonly doc?: string;
}

/** A reference to a tensor in a loss term: a layer or input name, or a target supplied with the batch. */
export interface LossTerm {
  /** cross_entropy, binary_cross_entropy, mse, localization, yolo, triplet, content, style, total_variation, l2 */
  readonly fn: string;
  readonly weight: number;
  /** Tensor names the term reads (layers, inputs). Targets (labels) are implicit per loss kind. */
  readonly args: readonly string[];
  readonly argShapes: readonly Shape[];
  /** Named numeric options (triplet alpha, style layer weights...). */
  readonly options: Readonly<Record<string, number>>;
  /** Named number lists (yolo's anchor sizes), for the losses that take them. */
  readonly lists?: Readonly<Record<string, readonly number[]>>;
  /** Shape of the target tensor this term needs with each batch, if any ([] for a class index). */
  readonly target?: { readonly name: string; readonly shape: Shape; readonly dtype: 'f32' | 'i32' };
  readonly span: Span;
}

export interface ModelGraph {
  readonly name: string;
  readonly file: string;
  readonly doc?: string;
  readonly inputs: readonly InputNode[];
  /** Topological order. */
  readonly layers: readonly LayerNode[];
  /** Tensor (layer or input) names of the model's outputs. */
  readonly outputs: readonly string[];
  /**
   * What the model file calls each output, in the order of `outputs`, where that is not the tensor's
   * name: `output a` after `a = encoder(anchor)` names the block's last layer `a.l2_normalize_1`.
   */
  readonly outputNames?: readonly string[];
  readonly loss: readonly LossTerm[];
  readonly span: Span;
}

/** Names of the layers and inputs that `names` depend on, themselves included. */
export function ancestorsOf(graph: ModelGraph, names: readonly string[]): Set<string> {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const seen = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of byName.get(n)?.inputs ?? []) stack.push(i);
  }
  return seen;
}

/** Each output of the model: the name the model file gives it and the tensor it is. */
export function namedOutputs(graph: ModelGraph): { readonly name: string; readonly tensor: string }[] {
  return graph.outputs.map((tensor, i) => ({ name: graph.outputNames?.[i] ?? tensor, tensor }));
}
