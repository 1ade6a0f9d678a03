// The benchmark's two models, written once as plain data so that the TensorFlow.js peer and the
// cnnc side train exactly the same network: same layers, kernels, strides, padding, bias flags,
// batchnorm settings, loss, optimizer and batch. Shapes are the course's H x W x C without the batch.

import { fileURLToPath } from 'node:url';

export type Padding = 'same' | 'valid';
export type Activation = 'relu' | 'softmax' | 'linear';

interface LayerBase {
  /** Unique layer name; also the tfjs layer name and the name cnnc should give the layer. */
  readonly name: string;
  /** Producing layers (or the input); omitted means the previous layer in the list. */
  readonly from?: readonly string[];
}

export interface ConvLayer extends LayerBase {
  readonly kind: 'conv';
  readonly filters: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: Padding;
  readonly bias: boolean;
  readonly activation: Activation;
}
export interface MaxPoolLayer extends LayerBase {
  readonly kind: 'maxpool';
  readonly size: number;
  readonly stride: number;
}
export interface BatchNormLayer extends LayerBase {
  readonly kind: 'batchnorm';
  readonly epsilon: number;
  /** PyTorch's convention: running = (1 - momentum) * running + momentum * batch. */
  readonly momentum: number;
}
export interface ReluLayer extends LayerBase {
  readonly kind: 'relu';
}
export interface FlattenLayer extends LayerBase {
  readonly kind: 'flatten';
}
export interface GlobalAvgPoolLayer extends LayerBase {
  readonly kind: 'global_avgpool';
}
export interface DenseLayer extends LayerBase {
  readonly kind: 'dense';
  readonly units: number;
  readonly bias: boolean;
  readonly activation: Activation;
}
export interface AddLayer extends LayerBase {
  readonly kind: 'add';
  readonly from: readonly [string, string];
}

export type BenchLayer =
  | ConvLayer
  | MaxPoolLayer
  | BatchNormLayer
  | ReluLayer
  | FlattenLayer
  | GlobalAvgPoolLayer
  | DenseLayer
  | AddLayer;

export interface BenchModel {
  /** Key used on the command line (`npm run bench -- lenet5`) and in the JSON lines. */
  readonly id: string;
  /** The `.cnn` model cnnc compiles for the same network: `compileModel(cnn)` of compiler/program.ts. */
  readonly cnn: { readonly file: string; readonly model: string; readonly overrides: Readonly<Record<string, number>> };
  readonly inputName: string;
  /** [H, W, C] */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  readonly batch: number;
  readonly optimizer: { readonly kind: 'sgd'; readonly learningRate: number };
  /** Softmax output trained with categorical cross-entropy against one-hot labels. */
  readonly loss: 'cross_entropy';
  /** Topological order; the last layer is the output. */
  readonly layers: readonly BenchLayer[];
}

const BATCH = 64;
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const SGD = { kind: 'sgd', learningRate: 0.01 } as const;
/** PyTorch's BatchNorm2d defaults (Keras' momentum 0.99 is PyTorch's 0.01; we use PyTorch's 0.1). */
const BN = { epsilon: 1e-5, momentum: 0.1 } as const;

/** LeNet-5, ReLU variant, as in the course: 32x32x1 -> 10 classes. */
export const lenet5: BenchModel = {
  id: 'lenet5',
  cnn: { file: here('../stdlib/lenet5.cnn'), model: 'LeNet5', overrides: { channels: 1 } },
  inputName: 'image',
  inputShape: [32, 32, 1],
  classes: 10,
  batch: BATCH,
  optimizer: SGD,
  loss: 'cross_entropy',
  layers: [
    { kind: 'conv', name: 'conv1', filters: 6, kernel: 5, stride: 1, padding: 'valid', bias: true, activation: 'relu' },
    { kind: 'maxpool', name: 'pool1', size: 2, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 16, kernel: 5, stride: 1, padding: 'valid', bias: true, activation: 'relu' },
    { kind: 'maxpool', name: 'pool2', size: 2, stride: 2 },
    { kind: 'flatten', name: 'flatten' },
    { kind: 'dense', name: 'fc1', units: 120, bias: true, activation: 'relu' },
    { kind: 'dense', name: 'fc2', units: 84, bias: true, activation: 'relu' },
    { kind: 'dense', name: 'fc3', units: 10, bias: true, activation: 'softmax' },
  ],
};

function conv(name: string, filters: number, kernel: number, stride: number, from?: string): ConvLayer {
  const layer: ConvLayer = { kind: 'conv', name, filters, kernel, stride, padding: 'same', bias: false, activation: 'linear' };
  return from === undefined ? layer : { ...layer, from: [from] };
}

function bn(name: string): BatchNormLayer {
  return { kind: 'batchnorm', name, ...BN };
}

/**
 * A basic residual block (two 3x3 convs with batchnorm) as in torchvision's BasicBlock. Convs
 * before a batchnorm carry no bias. With a stride or a channel change the shortcut is projected
 * by a 1x1 conv + batchnorm.
 */
function basicBlock(prefix: string, input: string, inChannels: number, filters: number, stride: number): BenchLayer[] {
  const projected = stride !== 1 || inChannels !== filters;
  const layers: BenchLayer[] = [
    conv(`${prefix}_conv1`, filters, 3, stride, input),
    bn(`${prefix}_bn1`),
    { kind: 'relu', name: `${prefix}_relu1` },
    conv(`${prefix}_conv2`, filters, 3, 1),
    bn(`${prefix}_bn2`),
  ];
  let shortcut = input;
  if (projected) {
    layers.push(conv(`${prefix}_proj`, filters, 1, stride, input), bn(`${prefix}_proj_bn`));
    shortcut = `${prefix}_proj_bn`;
  }
  layers.push(
    { kind: 'add', name: `${prefix}_add`, from: [`${prefix}_bn2`, shortcut] },
    { kind: 'relu', name: `${prefix}_out` },
  );
  return layers;
}

/** ResNet-8 for 32x32x3: stem, three stages of one basic block (16/32/64), pool, dense. */
export const resnet8: BenchModel = {
  id: 'resnet8',
  cnn: { file: here('./resnet8.cnn'), model: 'ResNet8', overrides: {} },
  inputName: 'image',
  inputShape: [32, 32, 3],
  classes: 10,
  batch: BATCH,
  optimizer: SGD,
  loss: 'cross_entropy',
  layers: [
    conv('stem_conv', 16, 3, 1),
    bn('stem_bn'),
    { kind: 'relu', name: 'stem_relu' },
    ...basicBlock('stage1', 'stem_relu', 16, 16, 1),
    ...basicBlock('stage2', 'stage1_out', 16, 32, 2),
    ...basicBlock('stage3', 'stage2_out', 32, 64, 2),
    { kind: 'global_avgpool', name: 'pool' },
    { kind: 'dense', name: 'fc', units: 10, bias: true, activation: 'softmax' },
  ],
};

export const benchModels: readonly BenchModel[] = [lenet5, resnet8];

export function findBenchModel(id: string): BenchModel | undefined {
  return benchModels.find((m) => m.id === id);
}
