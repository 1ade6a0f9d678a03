// Whole training steps (forward, loss, backward, batchnorm statistics, optimizer update) on the
// wasm back end against the CPU reference within 1e-5 relative: LeNet-5, ResNet-8, an inception
// module and a triplet model; then several steps with the weights kept in the wasm memory, saved
// and resumed exactly.

import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { initialWeights } from '../../runtime/init.ts';
import { buildTrainStep, resetOptimizerState, type TrainStep } from '../../compiler/optim/train-step.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { WasmExecutor } from '../../runtime/wasm/executor.ts';
import { WorkerPool } from '../../runtime/wasm/workers.ts';
import { randomArray } from '../gpu/compare.ts';
import { copyStore, expectWasmMatchesCpu } from './compare.ts';

const INCEPTION = `
import inception
model SmallInception(classes = 5) {
  input image: 12 x 12 x 8
  inception(4, 3, 6, 2, 3, 3) as module
  global_avgpool
  dense classes -> softmax
  loss cross_entropy
}
`;

interface Case {
  readonly name: string;
  readonly file: string;
  readonly model?: string;
  readonly text?: string;
  readonly overrides?: Record<string, number>;
  readonly optimizer: OptimizerConfig;
  readonly batch: number;
}

const cases: Case[] = [
  { name: 'LeNet-5 (SGD)', file: 'stdlib/lenet5.cnn', overrides: { channels: 1 }, optimizer: { kind: 'sgd', lr: 0.05 }, batch: 5 },
  { name: 'ResNet-8 (momentum, weight decay)', file: 'bench/resnet8.cnn', optimizer: { kind: 'momentum', lr: 0.05, weightDecay: 1e-4 }, batch: 2 },
  { name: 'inception module (SGD, cosine schedule)', file: 'test/wasm/small-inception.cnn', text: INCEPTION, optimizer: { kind: 'sgd', lr: 0.1, schedule: { kind: 'cosine', totalSteps: 10 } }, batch: 3 },
  { name: 'triplet model (SGD)', file: 'test/ir/models/models.cnn', model: 'Triplet', optimizer: { kind: 'sgd', lr: 0.1 }, batch: 3 },
];

/** Smallest |x| at a relu kink: inputs there may take either side on two correct back ends. */
function nearestKink(program: IrProgram, feeds: Map<string, Float32Array>, store: Map<string, Float32Array>): number {
  const values = evaluate(program, feeds, store);
  let min = Infinity;
  for (const n of program.nodes) {
    const x = n.attrs.op === 'unary' && n.attrs.fn === 'relu' ? n.inputs[0] : n.attrs.op === 'unary_grad' && n.attrs.fn === 'relu' ? n.inputs[1] : undefined;
    if (x !== undefined) for (const v of values[x]!) min = Math.min(min, Math.abs(v));
  }
  return min;
}

function setUp(c: Case): { step: TrainStep; store: Map<string, Float32Array>; feedsFor: (seed: number) => Map<string, Float32Array> } {
  const compiled = compileModel({ file: c.file, text: c.text, model: c.model, overrides: c.overrides, readText: undefined });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const graph = compiled.graph!;
  const step = buildTrainStep(graph, c.batch, c.optimizer);
  const store = new Map<string, Float32Array>(initialWeights(graph, 7));
  resetOptimizerState(step, store);
  for (const [name, shape] of step.persistent) if (!store.has(name)) store.set(name, name.includes('var') ? new Float32Array(sizeOf(shape)).fill(1) : new Float32Array(sizeOf(shape)));
  const feedsFor = (seed: number): Map<string, Float32Array> => {
    const feeds = new Map<string, Float32Array>();
    let k = 0;
    for (const [name, shape] of step.feeds) {
      const n = sizeOf(shape);
      feeds.set(name, name === 'labels' ? Float32Array.from({ length: n }, (_, i) => (i * 3 + seed) % 5) : randomArray(n, seed * 31 + k++, 0, 1));
    }
    return feeds;
  };
  return { step, store, feedsFor };
}

const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('training steps on the wasm back end match the CPU reference', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { step, store, feedsFor } = setUp(c);
      let feeds = feedsFor(1);
      for (let seed = 2; seed <= 50 && nearestKink(step.program, feeds, store) <= 2e-6; seed++) feeds = feedsFor(seed);
      expect(nearestKink(step.program, feeds, store)).toBeGreaterThan(2e-6);
      const prepared = await expectWasmMatchesCpu(step.program, 1e-5, { feeds, store });
      // Fusion and planning did something: fewer kernels than ops, less memory than one buffer each.
      const ops = step.program.nodes.filter((n) => n.attrs.op !== 'leaf' && n.attrs.op !== 'reshape').length;
      expect(prepared.kernels).toBeLessThan(ops);
      expect(prepared.memory.plannedBytes).toBeLessThan(prepared.memory.unplannedBytes);
      await expectWasmMatchesCpu(step.program, 1e-5, { feeds, store }, pool);
    });
  }

  it('resumes exactly: 2 + 2 steps with a save and load between equal 4 steps in a row', async () => {
    const { step, store, feedsFor } = setUp(cases[1]!);
    const batches = [1, 2, 3, 4].map(feedsFor);
    const run = async (split: boolean): Promise<Map<string, Float32Array>> => {
      let prepared = await new WasmExecutor(pool).prepare(step.program);
      prepared.load(copyStore(store));
      const losses: number[] = [];
      for (const [i, feeds] of batches.entries()) {
        if (split && i === 2) {
          const saved = new Map<string, Float32Array>();
          await prepared.save(saved);
          prepared.dispose();
          prepared = await new WasmExecutor(pool).prepare(step.program);
          prepared.load(saved);
        }
        losses.push((await prepared.step(feeds)).get('loss')![0]!);
      }
      const out = new Map<string, Float32Array>();
      await prepared.save(out);
      prepared.dispose();
      out.set('losses', Float32Array.from(losses));
      return out;
    };
    const [straight, resumed] = [await run(false), await run(true)];
    expect(straight.get('losses')![3]).not.toBe(straight.get('losses')![0]);
    for (const [name, v] of straight) expect(resumed.get(name), name).toEqual(v);
  });
});
