// Whole-model checks of lowering + autodiff: finite differences for every loss term and a model
// using every layer kind, frozen layers, dropout, batchnorm modes, and the LeNet-5 step time.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/gradients.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { lowerModel, SEED_FEED } from '../../compiler/lower/lower.ts';
import { buildGradProgram, buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { compileModel } from '../../compiler/program.ts';
import { evaluate, runProgram } from '../../runtime/reference/executor.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import { fill, rng } from './support.ts';

const LOSSES = 'test/ir/models/losses.cnn';

function graph(file: string, model: string, overrides?: Record<string, number>): ModelGraph {
  const r = compileModel({ file: resolve(file), model, overrides });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.graph;
}

/** Random feeds and persistent tensors for a lowered model (labels valid, variances positive). */
function randomData(g: ModelGraph, batch: number, seed: number): { feeds: Map<string, Float32Array>; store: Map<string, Float32Array> } {
  const rand = rng(seed);
  const m = lowerModel(g, { batch, mode: 'train' });
  const feeds = new Map<string, Float32Array>();
  for (const [name, shape] of m.feeds) {
    const n = sizeOf(shape);
    if (name === 'labels') {
      const classes = m.builder.shape(m.values.get(g.loss[0]!.args[0]!)!)[1]!;
      feeds.set(name, Float32Array.from({ length: n }, (_, i) => i % classes));
    } else if (name === SEED_FEED) feeds.set(name, Float32Array.of(5));
    else if (g.loss.some((t) => t.fn === 'yolo')) {
      // Per anchor of 7 channels: pc in {0, 1}, a box, a one-hot class of 2.
      const t = fill(shape, 'normal', rand);
      const cells = shape[2]! * shape[3]!;
      for (let i = 0; i < n; i++) {
        const ch = Math.floor(i / cells) % shape[1]!;
        const k = ch % 7;
        if (k === 0) t[i] = (i % 3) === 0 ? 1 : 0;
        if (k >= 5) t[i] = (k === 5) === ((i % 2) === 0) ? 1 : 0;
      }
      feeds.set(name, t);
    } else if (g.loss.some((t) => t.fn === 'localization')) {
      const [rows, f] = [shape[0]!, shape[1]!];
      const t = new Float32Array(n);
      for (let r = 0; r < rows; r++) {
        t[r * f] = r % 2 === 0 ? 1 : 0;
        for (let k = 1; k < 5; k++) t[r * f + k] = rand();
        t[r * f + 5 + (r % (f - 5))] = 1;
      }
      feeds.set(name, t);
    } else if (g.loss.some((t) => t.fn === 'binary_cross_entropy')) feeds.set(name, Float32Array.from({ length: n }, () => 0.1 + 0.8 * rand()));
    else feeds.set(name, fill(shape, 'normal', rand));
  }
  const store = new Map<string, Float32Array>();
  for (const [name, shape] of m.persistent) store.set(name, fill(shape, name.endsWith('running_var') ? 'positive' : 'normal', rand));
  return { feeds, store };
}

/** Central differences of the loss against autodiff for every trainable element; max relative error. */
function modelGradCheck(g: ModelGraph, batch: number, eps = 1e-2): number {
  const { program, lowered, grads, loss } = buildGradProgram(g, batch);
  const { feeds, store } = randomData(g, batch, 7);
  const values = evaluate(program, feeds, store);
  const forward: IrProgram = { nodes: program.nodes.slice(0, loss + 1), outputs: new Map(), updates: [] };
  let worst = 0;
  for (const t of lowered.trainable) {
    const x = store.get(t.name)!;
    const analytic = values[grads.get(t.name)!]!;
    for (let i = 0; i < x.length; i++) {
      const old = x[i]!;
      x[i] = old + eps;
      const up = evaluate(forward, feeds, store)[loss]![0]!;
      x[i] = old - eps;
      const down = evaluate(forward, feeds, store)[loss]![0]!;
      x[i] = old;
      const numeric = (up - down) / (2 * eps);
      worst = Math.max(worst, Math.abs(analytic[i]! - numeric) / Math.max(1, Math.abs(numeric)));
    }
  }
  return worst;
}

describe('finite-difference checks of every loss term through lowering (tolerance 1e-2)', () => {
  for (const model of ['CrossEntropyProbs', 'Binary', 'MseTwo', 'Localize', 'Yolo', 'TripletLoss', 'StyleTargets']) {
    it(model, () => {
      expect(modelGradCheck(graph(LOSSES, model), 3)).toBeLessThan(1e-2);
    });
  }
  it('a model with conv same/stride 2, batchnorm, leaky relu, dropout, zero pad, ceil maxpool, upsample, space_to_depth, global pool, softmax', () => {
    expect(modelGradCheck(graph(LOSSES, 'Everything'), 2, 1e-3)).toBeLessThan(1e-2);
  });
});

describe('training semantics', () => {
  it('frozen layers get no gradient and no update; the others change', () => {
    const g = graph(LOSSES, 'Frozen');
    expect(buildGradProgram(g, 2).grads.has('stem.weight')).toBe(false);
    const step = buildTrainStep(g, 2, { kind: 'sgd', lr: 0.5 });
    const { feeds, store } = randomData(g, 2, 3);
    resetOptimizerState(step, store);
    const before = new Map([...store].map(([k, v]) => [k, v.slice()]));
    runProgram(step.program, feeds, store);
    expect(store.get('stem.weight')).toEqual(before.get('stem.weight'));
    expect(store.get('head.weight')).not.toEqual(before.get('head.weight'));
  });

  it('a trainable input is a parameter: it gets a gradient and an update', () => {
    const g = graph('test/ir/models/models.cnn', 'StyleTransfer');
    const step = buildTrainStep(g, 1, { kind: 'adam', lr: 0.1 });
    expect([...step.persistent.keys()]).toContain('generated');
    const { feeds, store } = randomData(g, 1, 4);
    resetOptimizerState(step, store);
    const before = store.get('generated')!.slice();
    const netBefore = store.get('net.shallow.weight')!.slice();
    runProgram(step.program, feeds, store);
    expect(store.get('generated')).not.toEqual(before);
    expect(store.get('net.shallow.weight')).toEqual(netBefore);
  });

  it('dropout: seeded, about `rate` dropped, kept values scaled by 1/(1-rate), off in eval mode', () => {
    const g = graph(LOSSES, 'Everything');
    const m = lowerModel(g, { batch: 64, mode: 'train' });
    const maskNode = m.builder.nodes.find((n) => n.attrs.op === 'dropout_mask')!;
    const program: IrProgram = { nodes: m.builder.nodes.slice(0, maskNode.id + 1), outputs: new Map([['mask', maskNode.id]]), updates: [] };
    const { feeds, store } = randomData(g, 64, 1);
    const mask = (seed: number): Float32Array => {
      feeds.set(SEED_FEED, Float32Array.of(seed));
      return runProgram(program, feeds, store).get('mask')!;
    };
    const a = mask(1);
    expect(mask(1)).toEqual(a);
    expect(mask(2)).not.toEqual(a);
    const dropped = a.filter((v) => v === 0).length / a.length;
    expect(dropped).toBeGreaterThan(0.27);
    expect(dropped).toBeLessThan(0.33);
    expect(new Set(a)).toEqual(new Set([0, Math.fround(1 / 0.7)]));
    expect(lowerModel(g, { batch: 2, mode: 'eval' }).builder.nodes.some((n) => n.attrs.op === 'dropout_mask')).toBe(false);
  });

  it('batchnorm in eval mode normalises with the running statistics', () => {
    const g = graph('test/ir/models/ops.cnn', 'BatchNormTrain');
    const p = buildInferenceProgram(g, 2);
    const { feeds, store } = randomData(g, 2, 9);
    const bn = p.nodes.find((n) => n.attrs.op === 'batchnorm');
    expect(bn).toBeDefined();
    expect(p.nodes.some((n) => n.attrs.op === 'batchnorm_train')).toBe(false);
    const out = runProgram(p, feeds, store).get('output:relu_1')!;
    // Recompute channel 1 of example 0 by hand from the conv output.
    const probe: IrProgram = { nodes: p.nodes, outputs: new Map([['conv', bn!.inputs[0]!]]), updates: [] };
    const conv = runProgram(probe, feeds, store).get('conv')!;
    const [c, hw] = [1, 4 * 3];
    for (let i = 0; i < hw; i++) {
      const x = conv[c * hw + i]!;
      const y = ((x - store.get('batchnorm_1.running_mean')![c]!) / Math.sqrt(store.get('batchnorm_1.running_var')![c]! + 1e-5)) * store.get('batchnorm_1.weight')![c]! + store.get('batchnorm_1.bias')![c]!;
      expect(out[c * hw + i]).toBeCloseTo(Math.max(0, y), 5);
    }
  });

  it('gradients of a node the loss does not read are zeros', () => {
    const g = graph(LOSSES, 'Frozen');
    const m = lowerModel(g, { batch: 1, mode: 'train' });
    const unused = m.builder.leaf('unused', 'param', [3]);
    const grads = gradients(m.builder, m.loss!, [unused]);
    expect(m.builder.node(grads.get(unused)!).attrs).toEqual({ op: 'const', value: 0 });
  });
});

describe('speed', () => {
  it('one LeNet-5 training step (batch 64, Adam) on the CPU executor', () => {
    const g = graph('stdlib/lenet5.cnn', 'LeNet5');
    const step = buildTrainStep(g, 64, { kind: 'adam', lr: 1e-3 });
    const { feeds, store } = randomData(g, 64, 2);
    resetOptimizerState(step, store);
    runProgram(step.program, feeds, store); // warm-up (JIT)
    // Best of three: the machine is shared, the figure is the executor's, not the neighbours'.
    let ms = Infinity;
    let loss = NaN;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      loss = runProgram(step.program, feeds, store).get('loss')![0]!;
      ms = Math.min(ms, performance.now() - t0);
    }
    console.log(`LeNet-5 train step, batch 64, CPU reference: ${ms.toFixed(0)} ms (best of 3)`);
    expect(Number.isFinite(loss)).toBe(true);
    expect(ms).toBeLessThan(1000);
  });
});
