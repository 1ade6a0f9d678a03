// Every layer the language knows: one definition per layer op, and the same definitions by every
// name written in .cnn files. A row here is a layer's registration: graph.ts reads the layer ops
// and their attributes off this object's type.

import type { LayerAttrs } from '../graph.ts';
import type { LayerDefinition, LayerDefinitionOf } from './definition.ts';
import { conv } from './conv.ts';
import { convTranspose } from './conv-transpose.ts';
import { batchnorm, dense } from './dense.ts';
import { abs, dropout, l2Normalize, leakyRelu, linear, relu, sigmoid, softmax, tanh } from './elementwise.ts';
import { add, concat, subtract } from './merge.ts';
import { avgpool, globalAvgpool, globalMaxpool, maxpool } from './pool.ts';
import { flatten, reshape, spaceToDepth, upsample, zeroPad } from './structural.ts';

/** Each row's key is its definition's op (tsc names a row whose key is another op). */
type KeyedByOp<R> = { readonly [K in keyof R]: LayerDefinitionOf<{ readonly op: K }> };
const keyedByOp = <R extends KeyedByOp<R>>(rows: R): R => rows;

/** The registry: one row per layer op. */
export const LAYER_DEFINITIONS = keyedByOp({
  conv,
  conv_transpose: convTranspose,
  maxpool,
  avgpool,
  global_avgpool: globalAvgpool,
  global_maxpool: globalMaxpool,
  dense,
  batchnorm,
  dropout,
  relu,
  leaky_relu: leakyRelu,
  tanh,
  sigmoid,
  softmax,
  linear,
  l2_normalize: l2Normalize,
  abs,
  flatten,
  reshape,
  zero_pad: zeroPad,
  space_to_depth: spaceToDepth,
  upsample,
  add,
  subtract,
  concat,
});

/** Definitions in the order the language reference lists them. */
export const DEFINITIONS: readonly LayerDefinition[] = Object.values(LAYER_DEFINITIONS);

/** The definition of a typed layer: chosen by its op, so its attributes are the ones it reads. */
export function definitionOf(attrs: LayerAttrs): LayerDefinition {
  return LAYER_DEFINITIONS[attrs.op];
}

/** Every layer by the name written in .cnn files (`conv`, `conv2d`, `maxpool3d`). */
export const LAYERS: Readonly<Record<string, LayerDefinition>> = Object.fromEntries(DEFINITIONS.flatMap((d) => d.names.map((name) => [name, d] as const)));
