// A layer is one definition: the names written in .cnn files and their keyword arguments (the
// parser's keyword set is generated from these), the signature and documentation (completion,
// hover, the language reference), the shape rule with the arithmetic shown in errors and hovers,
// its parameters, how the summary shows and counts it, its receptive field, its lowering to IR, its
// attributes' type and its ONNX and PyTorch forms. LAYER_DEFINITIONS (index.ts) registers each by
// its op; the layer ops and their attributes (graph.ts) are read off that registry.

import type { FixEdit, Message } from '../../grammar/diagnostics.ts';
import type { Span } from '../../grammar/span.ts';
import type { OnnxEmitter } from '../export/onnx/layer-form.ts';
import type { TorchForm, TorchLayer } from '../export/pytorch/layer-form.ts';
import type { AttrsOf, LayerNode, LayerOp, ParamRole, ParamSpec, Shape } from '../graph.ts';
import { IrError, type GraphBuilder } from '../ir/build.ts';
import type { IrUpdate } from '../ir/program.ts';
import type { ReceptiveField } from '../receptive-field.ts';
import { type ArgValue, type TensorValue } from '../checker/values.ts';

export interface LayerInput {
  readonly value: TensorValue;
  readonly span: Span;
}

/** What a shape rule gets: the name as written, evaluated arguments and the input tensors. */
export interface LayerContext {
  /** The name as written (`conv`, `conv2d`, `maxpool`). */
  readonly op: string;
  readonly opSpan: Span;
  readonly span: Span;
  readonly args: readonly ArgValue[];
  readonly inputs: readonly LayerInput[];
  /** Reports a catalog message at `span`, with the edit of its machine fix if it has one. */
  report(span: Span, m: Message, fix?: FixEdit): void;
}

/** What a shape rule gives: attributes, output shape, parameter shapes and MAC count. */
export interface TypedLayer<A> {
  readonly attrs: A;
  readonly shape: Shape;
  readonly params: readonly { readonly role: ParamRole; readonly shape: Shape }[];
  readonly macs: number;
}

/** What the shape rule of layer op(s) `K` gives. */
export type LayerType<K extends LayerOp = LayerOp> = TypedLayer<AttrsOf<K>>;

/** What a lowering gets: the IR builder and the model's parameters, state and feeds. */
export interface LoweringContext {
  readonly b: GraphBuilder;
  readonly batch: number;
  /** 'train': batch statistics, running-average updates, dropout; 'eval': running statistics, no dropout. */
  readonly mode: 'train' | 'eval';
  /** Node of a parameter by its full name, created on first use. */
  param(name: string): number;
  /** Running statistics etc.: persistent non-trainable state by name. */
  state(name: string): number;
  /** The per-step seed (a feed), for dropout. */
  seed(): number;
  /** Where running-average updates go. */
  readonly updates: IrUpdate[];
  /** The parameter specs of the layer owning `layer`'s parameters (itself, or a shared instance). */
  ownerParams(layer: LayerNode): readonly ParamSpec[];
  /** A distinct number per dropout layer. */
  salt(layer: LayerNode): number;
}

/** The output-size rule of a layer and its numbers per spatial axis, for hovers. */
export interface SizeArithmetic {
  /** `floor((n + 2p - f)/s) + 1` */
  readonly rule: string;
  /** `height: (32 + 2*0 - 5) + 1 = 28` per spatial axis. */
  readonly axes: readonly string[];
}

/** One row of the language reference's layer table (docs/language.md). */
export interface LayerReference {
  readonly example: string;
  readonly output: string;
  readonly parameters: string;
  readonly macs: string;
}

/** The attributes of a layer without any (activations, merges, flatten). */
export type NoFields = Readonly<Record<never, never>>;

/**
 * A layer's attributes: its op and the fields its definition declares; with no fields given, the
 * registered attributes of op(s) `K` (each op's own, for a union).
 */
export type LayerAttrsOf<K extends string, F = never> = [F] extends [never] ? (K extends LayerOp ? AttrsOf<K> : never) : { readonly op: K } & F;

/**
 * The definition of layer op `K` with attribute fields `F` besides `op`: each definition writes its
 * own `F` (graph.ts reads them off the registry, so a definition cannot look its own up);
 * `LayerDefinition` alone is any layer's.
 */
export type LayerDefinition<K extends string = LayerOp, F = never> = LayerDefinitionOf<LayerAttrsOf<K, F>>;

// Methods (not function-typed fields) so a LayerDefinition<'conv', ConvFields> is usable where any
// definition is: callers pick the definition by `attrs.op`, so the attributes always match.
export interface LayerDefinitionOf<A> {
  /** The names written in .cnn files; the first is the one documentation uses. */
  readonly names: readonly string[];
  /** How many input tensors: exactly one, or two and more (add, concat). */
  readonly inputs: 'one' | 'many';
  /** Keyword arguments it takes (`stride 2`): the parser, completion and highlighting read them. */
  readonly keywords: readonly string[];
  /** The words a keyword accepts besides numbers (`pad`: `same`, `valid`), as its reader checks them: completion offers these. */
  readonly keywordWords?: Readonly<Record<string, readonly string[]>>;
  /** One-line signature for editors: `conv filters, k x k [, stride s] [, pad p|same|valid] ...`. */
  readonly signature: string;
  readonly doc: string;
  readonly reference: LayerReference;
  /** Runs in place on its input or is a view of it: no activation memory of its own. */
  readonly inPlace: boolean;
  /** The shape rule: reports problems through `ctx.report` and returns undefined when it cannot type the layer. */
  type(ctx: LayerContext): TypedLayer<A> | undefined;
  /** `conv2d`, `maxpool3d`, `dense`: how summaries and diagrams name it. */
  display(attrs: A): string;
  /** The output-size arithmetic a hover shows, for layers whose size follows a rule. */
  arithmetic(attrs: A, input: Shape): SizeArithmetic | undefined;
  /** The receptive field of its output from its inputs' (undefined: a unit sees the whole input). */
  receptiveField(attrs: A, inputs: readonly ReceptiveField[]): ReceptiveField | undefined;
  lower(ctx: LoweringContext, layer: LayerNode, attrs: A, inputs: readonly number[]): number;
  /** The ONNX nodes (opset 17, standard ops) that compute it, for `cnnc export --to onnx`. */
  onnx(e: OnnxEmitter, attrs: A): void;
  /** Its line in model.py's values() and the module it owns, for `cnnc export --to pytorch`. */
  pytorch(t: TorchLayer, attrs: A): TorchForm;
}

/** The attribute fields a definition declares (its `F`). */
export type FieldsOf<D> = D extends LayerDefinitionOf<infer A> ? Omit<A, 'op'> : never;

/** `length`, `height, width` or `depth, height, width` for a spatial rank. */
export function axisNames(rank: number): string[] {
  return rank === 1 ? ['length'] : rank === 2 ? ['height', 'width'] : ['depth', 'height', 'width'];
}

// Shared answers for the many layers whose field, arithmetic or display are the plain ones.

/** A unit sees what the unit under it in the first input sees (elementwise layers, padding). */
export const sameField = (_attrs: unknown, [first]: readonly ReceptiveField[]): ReceptiveField | undefined => first;
/** A unit sees the whole input (dense, flatten, global pooling). */
export const wholeField = (): undefined => undefined;
export const noArithmetic = (): undefined => undefined;
export const opName = (attrs: { readonly op: string }): string => attrs.op;

/** The IR node of the parameter with `role` of a layer (its own, or its shared owner's). */
export function ownedParam(ctx: LoweringContext, layer: LayerNode, role: ParamRole): number {
  return ctx.param(ownedName(ctx, layer, role));
}

/** The layer's parameter name with `role` (for state such as running statistics). */
export function ownedName(ctx: LoweringContext, layer: LayerNode, role: ParamRole): string {
  const spec = ctx.ownerParams(layer).find((p) => p.role === role);
  if (!spec) throw new IrError(`layer ${layer.name} has no ${role} parameter`);
  return spec.name;
}
