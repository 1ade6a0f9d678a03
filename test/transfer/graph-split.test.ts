// splitAt cuts a model into a frozen trunk and a trainable head: on LeNet-5 the two together hold
// exactly the model; a cut inside a residual block (the shortcut skips over it) is refused by name.

import { describe, expect, it } from 'vitest';
import { GraphSplitError, splitAt } from '../../compiler/graph-split.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';

function compile(file: string, text?: string, overrides: Record<string, number> = {}): ModelGraph {
  const r = compileModel({ file, ...(text === undefined ? {} : { text }), overrides });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

const RESIDUAL = `
import resnet
model TinyResidual(classes = 3) {
  input image: 8 x 8 x 1
  conv 4, 3x3, pad 1 as stem -> relu
  basic_identity(4) as res
  global_avgpool
  dense classes -> softmax
  loss cross_entropy
}`;

const names = (g: ModelGraph) => g.layers.map((l) => l.name);
const params = (g: ModelGraph) => g.layers.flatMap((l) => l.params.map((p) => p.name));

describe('splitAt', () => {
  const lenet = compile('stdlib/lenet5.cnn', undefined, { channels: 1 });

  it('cuts LeNet-5 after a pooling layer into a trunk and a head that feeds on its activations', () => {
    const { trunk, head, split } = splitAt(lenet, 'maxpool_2');
    expect(split).toBe('maxpool_2');
    expect(names(trunk)).toEqual(['conv_1', 'relu_1', 'maxpool_1', 'conv_2', 'relu_2', 'maxpool_2']);
    expect(trunk.outputs).toEqual(['maxpool_2']);
    expect(trunk.loss).toEqual([]);
    expect(trunk.inputs.map((i) => i.name)).toEqual(['image']);
    expect(head.inputs).toHaveLength(1);
    expect(head.inputs[0]).toMatchObject({ name: 'maxpool_2', shape: [5, 5, 16], trainable: false });
    expect(names(head)).toEqual(['flatten_1', 'dense_1', 'relu_3', 'dense_2', 'relu_4', 'dense_3', 'softmax_1']);
    expect(head.layers[0]!.inputs).toEqual(['maxpool_2']);
    expect(head.loss).toEqual(lenet.loss);
    expect(head.outputs).toEqual(lenet.outputs);
    // Together they hold every weight of the model, each once.
    expect([...params(trunk), ...params(head)].sort()).toEqual(params(lenet).sort());
  });

  it('cuts after a dense layer: the head input is a vector', () => {
    const { head } = splitAt(lenet, 'relu_3');
    expect(head.inputs[0]).toMatchObject({ name: 'relu_3', shape: [120] });
    expect(names(head)).toEqual(['dense_2', 'relu_4', 'dense_3', 'softmax_1']);
  });

  it('refuses an input, the last layer and an unknown name, each by name', () => {
    expect(() => splitAt(lenet, 'image')).toThrow(GraphSplitError);
    expect(() => splitAt(lenet, 'image')).toThrow(/at 'image': it is an input, not a layer/);
    expect(() => splitAt(lenet, 'softmax_1')).toThrow(/at 'softmax_1': it is the last layer/);
    expect(() => splitAt(lenet, 'conv_9')).toThrow(/no such layer; did you mean 'conv_\d'\?/);
  });

  it('refuses a cut inside a residual block: the shortcut reads from before the cut', () => {
    const g = compile('/virtual/tiny-residual.cnn', RESIDUAL);
    expect(names(g)).toContain('res.add_1');
    const cut = () => splitAt(g, 'res.bn1');
    expect(cut).toThrow(GraphSplitError);
    expect(cut).toThrow("cannot split model TinyResidual at 'res.bn1': 'res.add_1' reads 'relu_1', from before the cut (a skip connection across it)");
  });

  it('accepts a cut at the end of the residual block', () => {
    const g = compile('/virtual/tiny-residual.cnn', RESIDUAL);
    const { trunk, head } = splitAt(g, 'res.relu_2');
    expect(trunk.layers.at(-1)!.name).toBe('res.relu_2');
    expect(names(head)).toEqual(['global_avgpool_1', 'dense_1', 'softmax_1']);
    expect(head.inputs[0]).toMatchObject({ name: 'res.relu_2', shape: [8, 8, 4] });
  });
});
