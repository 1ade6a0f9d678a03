// Every layer the language knows, by the name written in .cnn files.

import type { LayerSpec } from './definition.ts';
import { batchnorm, dense } from './dense.ts';
import { abs, dropout, l2Normalize, leakyRelu, linear, relu, sigmoid, softmax, tanh } from './elementwise.ts';
import { add, concat, subtract } from './merge.ts';
import { conv, globalPool, pool } from './spatial.ts';
import { flatten, reshape, spaceToDepth, upsample, zeroPad } from './structural.ts';

export const LAYERS: Readonly<Record<string, LayerSpec>> = {
  conv,
  conv1d: conv,
  conv2d: conv,
  conv3d: conv,
  maxpool: pool,
  maxpool1d: pool,
  maxpool2d: pool,
  maxpool3d: pool,
  avgpool: pool,
  avgpool1d: pool,
  avgpool2d: pool,
  avgpool3d: pool,
  global_avgpool: globalPool,
  global_maxpool: globalPool,
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
};
