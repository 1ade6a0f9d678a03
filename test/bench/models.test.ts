import { describe, expect, it } from 'vitest';
import { compileModel, stdlibPath } from '../../compiler/program.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { modelStats, outputShape, primitiveOps, type PrimitiveOp } from '../../bench/model-stats.ts';
import { findBenchModel, lenet5, resnet8, type BenchModel } from '../../bench/models.ts';

function graphOps(graph: ModelGraph): PrimitiveOp[] {
  return graph.layers.map((l) => ({
    op: l.attrs.op,
    shape: [...l.shape],
    params: l.params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0),
  }));
}

const key = (o: PrimitiveOp): string => `${o.op} ${o.shape.join('x')} ${o.params}`;

function expectSameNetwork(model: BenchModel, graph: ModelGraph | undefined): void {
  expect(graph).toBeDefined();
  if (graph === undefined) return;
  expect(graph.inputs.map((i) => [...i.shape])).toEqual([[...model.inputShape]]);
  // Same ops with the same shapes and parameter counts (order-insensitive: branches may be listed differently).
  expect(graphOps(graph).map(key).sort()).toEqual(primitiveOps(model).map(key).sort());
  expect(graph.loss.map((t) => t.fn)).toEqual([model.loss]);
}

describe('bench model descriptions', () => {
  it.each([lenet5, resnet8])('describe the network cnnc compiles from $cnn.model op for op', (model) => {
    const result = compileModel(model.cnn);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expectSameNetwork(model, result.graph);
  });

  it('uses the stdlib LeNet5 with one input channel', () => {
    expect(lenet5.cnn.file).toBe(stdlibPath('lenet5'));
    expect(lenet5.cnn.overrides).toEqual({ channels: 1 });
  });

  it('count parameters and conv work from the layer formulas', () => {
    const stats = modelStats(lenet5);
    // conv 5*5*1*6+6, conv 5*5*6*16+16, dense 400*120+120, 120*84+84, 84*10+10
    expect(stats.params).toBe(156 + 2416 + 48120 + 10164 + 850);
    expect(stats.convMacs).toBe(28 * 28 * 6 * 25 + 10 * 10 * 16 * 150);
    expect(outputShape(resnet8)).toEqual([10]);
    const r = modelStats(resnet8);
    expect(r.params - r.trainableParams).toBe(2 * (16 + 16 + 16 + 32 + 32 + 32 + 64 + 64 + 64)); // running stats
  });

  it('rejects a description whose shapes do not fit, naming the layer', () => {
    const broken: BenchModel = { ...lenet5, layers: [...lenet5.layers.slice(0, 4), lenet5.layers[5]!] };
    expect(() => modelStats(broken)).toThrow(/dense fc1 needs a vector input/);
    const unknown: BenchModel = { ...resnet8, layers: [{ kind: 'relu', name: 'r', from: ['nowhere'] }] };
    expect(() => modelStats(unknown)).toThrow(/layer r reads unknown layer nowhere/);
  });

  it('finds models by id', () => {
    expect(findBenchModel('resnet8')).toBe(resnet8);
    expect(findBenchModel('vgg')).toBeUndefined();
  });
});
