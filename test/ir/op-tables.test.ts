// The op tables are complete and agree with each other, and IR nodes keep the layer they came
// from through autodiff and the optimizer, so kernels are named and described by that layer.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAD_RULES } from '../../compiler/autodiff/rules.ts';
import { SOFTWARE_TILING } from '../../compiler/codegen/wgsl/tiled.ts';
import { planProgram } from '../../compiler/emit-ts/plan-program.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { OP_NAMES, OP_TRAITS } from '../../compiler/ir/traits.ts';
import { LOSS_LAYER } from '../../compiler/lower/lower.ts';
import { buildTrainStep } from '../../compiler/optim/train-step.ts';
import { compileModel } from '../../compiler/program.ts';
import { KERNELS } from '../../runtime/reference/kernels.ts';

function graph(file: string, model: string): ModelGraph {
  const r = compileModel({ file: resolve(file), model });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.graph;
}

describe('op tables', () => {
  it('have one row per op: traits, gradient rule, CPU kernel', () => {
    expect(OP_NAMES.length).toBeGreaterThan(30);
    expect(Object.keys(GRAD_RULES).sort()).toEqual([...OP_NAMES].sort());
    expect(Object.keys(KERNELS).sort()).toEqual([...OP_NAMES].sort());
  });

  it('give per-channel inputs to elementwise ops only, and same-shape positions within the arity', () => {
    for (const op of OP_NAMES) {
      const t = OP_TRAITS[op];
      if (t.channelInputs.length > 0) expect(t.kind, op).toBe('elementwise');
      const arity = t.arity === 'variadic' ? Infinity : t.arity;
      for (const j of [...t.sameShape, ...t.channelInputs]) expect(j, op).toBeLessThan(arity);
    }
  });
});

describe('layer of origin', () => {
  const step = buildTrainStep(graph('stdlib/lenet5.cnn', 'LeNet5'), 8, { kind: 'momentum', lr: 0.01 });
  const layers = new Set(graph('stdlib/lenet5.cnn', 'LeNet5').layers.map((l) => l.name));

  it('reaches every backward and update node of a parameter', () => {
    const nodes = step.program.nodes;
    for (const u of step.program.updates) {
      if (u.name === 'optim/step') continue;
      expect(layers.has(nodes[u.value]!.layer ?? ''), `${u.name}: ${nodes[u.value]!.layer}`).toBe(true);
    }
    const grads = nodes.filter((n) => n.attrs.op === 'conv_grad_weight' || n.attrs.op === 'conv_grad_input' || n.attrs.op === 'pool_grad');
    expect(grads.length).toBeGreaterThan(0);
    for (const n of grads) expect(layers.has(n.layer ?? ''), `${n.attrs.op} ${n.layer}`).toBe(true);
    expect(nodes.some((n) => n.layer === LOSS_LAYER)).toBe(true);
  });

  it('names kernels and their comments after the layer, also for partial and split kernels', () => {
    const planned = planProgram(step.program, { prefix: 'train', maxStorageBuffers: 8, tiling: SOFTWARE_TILING });
    const split = planned.described.filter((d) => d.dispatch.kernel.includes('conv_grad_weight_split'));
    expect(split.length).toBeGreaterThan(0);
    for (const d of split) {
      // conv_1's partial weight-gradient sums read the image but belong to conv_1.
      const layer = /^train-\d+-(conv_[12])-conv_grad_weight_split$/.exec(d.dispatch.kernel)?.[1];
      expect(layer, d.dispatch.kernel).toBeDefined();
      expect(d.comment).toMatch(new RegExp(`^${layer === 'conv_1' ? 'image, ' : ''}${layer}: conv_grad_weight_split, `));
      expect(d.phase).toBe('backward');
    }
    const sums = planned.described.filter((d) => d.dispatch.kernel.endsWith('-sum_splits'));
    expect(sums.length).toBe(split.length);
    for (const d of sums) expect(d.comment).toMatch(new RegExp(`^${d.dispatch.kernel.split('-')[2]}: sum_splits \\+ axpby \\+ sgd_apply, `));
  });

  it('puts the pieces of training batchnorm in the phase of the layer they compute', () => {
    const bn = buildTrainStep(graph('test/ir/models/models.cnn', 'ResNetBlocks'), 2, { kind: 'sgd', lr: 0.01 });
    const planned = planProgram(bn.program, { prefix: 'train', maxStorageBuffers: 8, tiling: SOFTWARE_TILING });
    const stats = planned.described.filter((d) => d.comment.includes('bn_stats,'));
    expect(stats.length).toBeGreaterThan(0);
    for (const d of stats) expect([d.phase, d.dispatch.kernel]).toEqual(['forward', expect.stringMatching(/-bn_stats$/)]);
    for (const d of stats) expect(d.dispatch.kernel).not.toMatch(/^train-\d+-bn_stats$/);
  });
});
