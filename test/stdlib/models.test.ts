// What each standard-library model must be beyond its parameter count: the shapes, heads, losses,
// shared weights and frozen layers that the issue names.

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import type { LayerNode, ModelGraph } from '../../compiler/graph.ts';
import { summarize } from '../../compiler/summary.ts';
import { REPO } from './figures.ts';

function graphOf(file: string, model: string, overrides?: Record<string, number>): ModelGraph {
  const result = compileModel({ file: `${REPO}/stdlib/${file}`, model, overrides });
  expect(result.diagnostics.map((d) => d.message)).toEqual([]);
  return result.graph!;
}

function layer(g: ModelGraph, name: string): LayerNode {
  const found = g.layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer ${name} in ${g.name}`);
  return found;
}

const outputShapes = (g: ModelGraph) => g.outputs.map((o) => layer(g, o).shape.join('x'));

describe('LeNet-5', () => {
  it('the 1998 original reads 32x32x1 with tanh and average pooling', () => {
    const g = graphOf('lenet5.cnn', 'LeNet5Original');
    expect(g.inputs[0].shape).toEqual([32, 32, 1]);
    const ops = new Set(g.layers.map((l) => l.attrs.op));
    expect(ops.has('tanh') && ops.has('avgpool') && !ops.has('relu') && !ops.has('maxpool')).toBe(true);
  });
});

describe('VGG-16 activation memory', () => {
  it('sums the input and every conv, pool and dense output: about 15.2M values, 61 MB', () => {
    const g = graphOf('vgg.cnn', 'VGG16');
    const kept = g.layers.filter((l) => ['conv', 'maxpool', 'dense'].includes(l.attrs.op));
    const values = 224 * 224 * 3 + kept.reduce((s, l) => s + l.shape.reduce((a, b) => a * b, 1), 0);
    expect(values).toBe(15_237_608);
    expect(summarize(g).totals.activationBytes).toBe(values * 4);
  });
});

describe('ResNet', () => {
  it('ResNet-50 is stem, 3 + 4 + 6 + 3 bottlenecks (one projection each stage) and a 1000-way head', () => {
    const g = graphOf('resnet.cnn', 'ResNet50');
    const adds = g.layers.filter((l) => l.attrs.op === 'add');
    expect(adds.length).toBe(16);
    expect(g.layers.filter((l) => l.name.endsWith('.downsample')).map((l) => l.shape.join('x'))).toEqual(['56x56x256', '28x28x512', '14x14x1024', '7x7x2048']);
    expect(outputShapes(g)).toEqual(['1000']);
  });

  it("the course's SIGNS ResNet-50 maps 64x64x3 to 6 classes through 2x2x2048", () => {
    const g = graphOf('resnet.cnn', 'ResNet50Signs');
    expect(layer(g, 'avg_pool').inputShapes[0]).toEqual([2, 2, 2048]);
    expect(outputShapes(g)).toEqual(['6']);
  });
});

describe('GoogLeNet', () => {
  it('has a main and two auxiliary softmax heads, the auxiliary losses weighted 0.3', () => {
    const g = graphOf('inception.cnn', 'GoogLeNet');
    expect(outputShapes(g)).toEqual(['1000', '1000', '1000']);
    expect(g.loss.map((t) => [t.fn, t.weight])).toEqual([
      ['cross_entropy', 1],
      ['cross_entropy', 0.3],
      ['cross_entropy', 0.3],
    ]);
    expect(layer(g, 'aux1.pool').inputs).toEqual(['inception4a.concat_1']);
    expect(layer(g, 'aux2.pool').inputs).toEqual(['inception4d.concat_1']);
    expect(layer(g, 'inception5b.concat_1').shape).toEqual([7, 7, 1024]);
  });

  it('the naive module concatenates 1x1, 3x3, 5x5 and pool branches to 28x28x416', () => {
    const g = graphOf('inception.cnn', 'InceptionNaive');
    expect(outputShapes(g)).toEqual(['28x28x416']);
  });
});

describe('YOLOv2', () => {
  it('maps 608x608x3 to 19x19x425 with a space_to_depth passthrough concatenated before the head', () => {
    const g = graphOf('yolo.cnn', 'YOLOv2');
    expect(g.inputs[0].shape).toEqual([608, 608, 3]);
    expect(outputShapes(g)).toEqual(['19x19x425']);
    expect(layer(g, 'space_to_depth_x2').shape).toEqual([19, 19, 256]);
    expect(layer(g, 'concatenate').shape).toEqual([19, 19, 1280]);
    expect(g.layers.filter((l) => l.attrs.op === 'leaky_relu').length).toBe(22);
    expect(g.loss[0]).toMatchObject({ fn: 'yolo', options: { classes: 80 } });
    expect(g.loss[0]!.lists?.anchors).toHaveLength(10);
  });

  it('the localization head outputs pc, bx, by, bh, bw and 3 classes; landmarks a face probability and 64 points', () => {
    expect(outputShapes(graphOf('localization.cnn', 'ClassificationWithLocalization'))).toEqual(['8']);
    const g = graphOf('localization.cnn', 'Landmarks');
    expect(outputShapes(g)).toEqual(['1', '128']);
    expect(g.loss.map((t) => t.fn)).toEqual(['binary_cross_entropy', 'mse']);
  });
});

describe('convolutional sliding windows', () => {
  it('give one 4-way prediction per 14x14 window: 1x1, 2x2 and 8x8 grids', () => {
    expect(layer(graphOf('sliding_windows.cnn', 'SlidingWindows14'), 'classifier.fc3').shape).toEqual([1, 1, 4]);
    expect(outputShapes(graphOf('sliding_windows.cnn', 'SlidingWindows16'))).toEqual(['2x2x4']);
    expect(outputShapes(graphOf('sliding_windows.cnn', 'SlidingWindows28'))).toEqual(['8x8x4']);
  });
});

describe('FaceNet', () => {
  it('the encoder maps 96x96x3 to an L2-normalised 128-d embedding', () => {
    const g = graphOf('facenet.cnn', 'FaceNetEncoder');
    expect(g.inputs[0].shape).toEqual([96, 96, 3]);
    const last = layer(g, g.outputs[0]);
    expect([last.attrs.op, last.shape]).toEqual(['l2_normalize', [128]]);
  });

  it('the triplet model applies one encoder three times, with alpha 0.2', () => {
    const g = graphOf('facenet.cnn', 'FaceNetTriplet');
    expect(g.loss.map((t) => [t.fn, t.options.alpha, t.args])).toEqual([['triplet', 0.2, g.outputs]]);
    const convs = g.layers.filter((l) => l.attrs.op === 'conv');
    const owners = new Set(convs.map((l) => l.paramOwner));
    expect(convs.length).toBe(3 * owners.size);
    expect(convs.filter((l) => l.params.length > 0).length).toBe(owners.size);
  });
});

describe('neural style transfer', () => {
  it('trains only the generated image, J = 10 J_content(conv4_2) + 40 * 0.2 J_style over conv1_1..conv5_1', () => {
    const g = graphOf('style_transfer.cnn', 'StyleTransfer');
    expect(g.inputs.map((i) => [i.name, i.trainable])).toEqual([
      ['content_image', false],
      ['style_image', false],
      ['generated', true],
    ]);
    expect(g.layers.every((l) => l.params.every((p) => !p.trainable))).toBe(true);
    expect(g.loss.map((t) => [t.fn, t.weight, t.args[0]])).toEqual([
      ['content', 10, 'g.conv4_2'],
      ...[1, 2, 3, 4, 5].map((i) => ['style', 8, `g.conv${i}_1`]),
    ]);
  });
});

describe('1D and 3D networks', () => {
  it('the heartbeat network reads 187 x 1 and pools down to 2 x 32', () => {
    const g = graphOf('signals.cnn', 'Heartbeat');
    expect(layer(g, 'res_5.pool').shape).toEqual([2, 32]);
    expect(layer(g, 'conv').attrs).toMatchObject({ op: 'conv', rank: 1 });
  });

  it('the CT network reads a 64x128x128x1 volume with 3D convolutions', () => {
    const g = graphOf('volumes.cnn', 'CTVolume');
    expect(layer(g, 'stage4.bn').shape).toEqual([2, 6, 6, 256]);
    expect(layer(g, 'stage1.conv').attrs).toMatchObject({ op: 'conv', rank: 3 });
  });
});

describe('importing by short name', () => {
  it('`import resnet` brings its blocks into another file', () => {
    const text = ['import resnet', 'model Tiny {', '  input image: 56 x 56 x 64', '  basic_projection(128) as down', '}', ''].join('\n');
    const result = compileModel({ file: `${REPO}/tmp-stdlib-import.cnn`, text });
    expect(result.diagnostics).toEqual([]);
    expect(result.graph!.layers.at(-1)!.shape).toEqual([28, 28, 128]);
  });
});
