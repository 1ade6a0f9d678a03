// The CPU executor against PyTorch 1.13 (scripts/torch_fixtures.py, float64 reference stored as
// float32): loss, every gradient (parameters and inputs), model outputs, batchnorm running
// statistics, and one SGD and one Adam step for LeNet-5 and the ResNet blocks.
// Tolerance: 1e-4 relative to the largest magnitude in each reference tensor
// (max |cnnc - torch| / max(max |torch|, 1e-3)); the loss is a scalar, so that is its ordinary
// relative error. The 1e-3 floor matters only for gradients that are zero in exact arithmetic
// (a conv bias right before batchnorm): float32 leaves ~1e-9 there, float64 PyTorch ~1e-17.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/gradients.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { verifyProgram } from '../../compiler/ir/verify.ts';
import { compileModel } from '../../compiler/program.ts';
import { runProgram } from '../../runtime/reference/executor.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { buildTrainStep, resetOptimizerState } from '../../compiler/optim/train-step.ts';
import { readSafetensorsWithMetadata } from '../../runtime/safetensors.ts';
import { toFloat32 } from '../../runtime/tensor.ts';
import { exportGraph } from './export-graphs.ts';
import { FIXTURE_MODELS, type FixtureModel } from './fixture-models.ts';

const TOL = 1e-4;
const DIR = resolve('test/fixtures/torch');

function relError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / Math.max(scale, 1e-3);
}

interface Fixture {
  readonly tensors: Map<string, Float32Array>;
  readonly meta: Record<string, string>;
}

function loadFixture(id: string): Fixture {
  const file = readSafetensorsWithMetadata(new Uint8Array(readFileSync(resolve(DIR, `${id}.safetensors`))), id);
  const tensors = new Map<string, Float32Array>();
  for (const [k, t] of file.tensors) tensors.set(k, toFloat32(t));
  return { tensors, meta: file.metadata ?? {} };
}

function withPrefix(f: Fixture, prefix: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of f.tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v.slice());
  return out;
}

function graphOf(m: FixtureModel): ModelGraph {
  const r = compileModel({ file: resolve(m.file), model: m.model, overrides: m.overrides });
  if (!r.graph) throw new Error(`${m.file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.graph;
}

/** Loss, gradients of trainable tensors and of the model inputs, outputs; running-stat updates. */
function gradProgram(graph: ModelGraph, batch: number): IrProgram {
  const m = lowerModel(graph, { batch, mode: 'train' });
  const inputs = graph.inputs.filter((i) => !i.trainable).map((i) => ({ name: i.name, node: m.values.get(i.name)! }));
  const wrt = [...m.trainable, ...inputs];
  const g = gradients(m.builder, m.loss!, wrt.map((w) => w.node));
  const outputs = new Map<string, number>([['loss', m.loss!]]);
  for (const w of wrt) outputs.set(`grad/${w.name}`, g.get(w.node)!);
  for (const name of graph.outputs) outputs.set(`output/${name}`, m.values.get(name)!);
  return { nodes: m.builder.nodes, outputs, updates: m.updates };
}

/** The configurations of OPTIMIZER_RUNS in scripts/torch_fixtures.py, 3 steps each on one batch. */
const OPTIMIZER_RUNS: Record<string, OptimizerConfig> = {
  momentum_wd: { kind: 'momentum', lr: 0.1, momentum: 0.9, weightDecay: 0.01 },
  rmsprop_wd: { kind: 'rmsprop', lr: 0.01, rho: 0.99, eps: 1e-8, weightDecay: 0.01 },
  adam_wd_steplr: { kind: 'adam', lr: 0.01, weightDecay: 0.01, schedule: { kind: 'step', stepSize: 2, gamma: 0.5 } },
  sgd_cosine: { kind: 'sgd', lr: 0.1, schedule: { kind: 'cosine', totalSteps: 4, minLr: 0.01 } },
};
const RUN_STEPS = 3;

const committed = JSON.parse(readFileSync(resolve(DIR, 'graphs.json'), 'utf8')) as { id: string; graph: unknown }[];

describe('PyTorch fixtures', () => {
  for (const m of FIXTURE_MODELS) {
    describe(m.id, () => {
      const fixture = loadFixture(m.id);

      it('was generated from the current front end (else rerun export-graphs.ts and torch_fixtures.py)', () => {
        const entry = committed.find((c) => c.id === m.id);
        expect(JSON.parse(JSON.stringify(exportGraph(m.file, m.model, m.overrides)))).toEqual(entry?.graph);
      });

      it(`loss, gradients, outputs and running statistics within ${TOL} relative`, () => {
        const program = gradProgram(graphOf(m), m.batch);
        expect(verifyProgram(program)).toEqual([]);
        const store = withPrefix(fixture, 'param/');
        const out = runProgram(program, withPrefix(fixture, 'feed/'), store);
        let compared = 0;
        for (const [name, want] of fixture.tensors) {
          if (name === 'loss' || name.startsWith('grad/') || name.startsWith('output/')) {
            const got = out.get(name);
            expect(got, `cnnc computes no ${name}`).toBeDefined();
            expect(relError(got!, want), name).toBeLessThan(TOL);
            compared++;
          }
          if (name.startsWith('state/')) {
            expect(relError(store.get(name.slice(6))!, want), name).toBeLessThan(TOL);
            compared++;
          }
        }
        // Every gradient cnnc produces has a PyTorch counterpart (no extra or missing trainables).
        const grads = [...out.keys()].filter((k) => k.startsWith('grad/')).sort();
        expect(grads).toEqual([...fixture.tensors.keys()].filter((k) => k.startsWith('grad/')).sort());
        expect(compared).toBeGreaterThan(1);
      });

      if (m.optimizers) {
        for (const [config, optimizer] of Object.entries(OPTIMIZER_RUNS)) {
          it(`${RUN_STEPS} steps of ${config} end with PyTorch's weights (${TOL} relative)`, () => {
            const step = buildTrainStep(graphOf(m), m.batch, optimizer);
            const store = withPrefix(fixture, 'param/');
            resetOptimizerState(step, store);
            const feeds = withPrefix(fixture, 'feed/');
            for (let i = 0; i < RUN_STEPS; i++) runProgram(step.program, feeds, store);
            const want = withPrefix(fixture, `run/${config}/`);
            expect(want.size).toBeGreaterThan(0);
            for (const [name, w] of want) expect(relError(store.get(name)!, w), name).toBeLessThan(TOL);
          });
        }
      }

      if (m.steps) {
        for (const kind of ['sgd', 'adam'] as const) {
          it(`one ${kind} step ends with PyTorch's weights (${TOL} relative)`, () => {
            const lr = Number(fixture.meta[`lr_${kind}`]);
            const step = buildTrainStep(graphOf(m), m.batch, { kind, lr });
            expect(verifyProgram(step.program)).toEqual([]);
            const store = withPrefix(fixture, 'param/');
            for (const [name, shape] of step.optimizerState) store.set(name, new Float32Array(shape.reduce((p, d) => p * d, 1)));
            const out = runProgram(step.program, withPrefix(fixture, 'feed/'), store);
            expect(relError(out.get('loss')!, fixture.tensors.get('loss')!)).toBeLessThan(TOL);
            const want = withPrefix(fixture, `${kind}/`);
            expect(want.size).toBeGreaterThan(0);
            for (const [name, w] of want) {
              // Adam normalises the gradient, so a gradient that is zero in exact arithmetic moves
              // by +-lr on rounding noise alone (in PyTorch too): such tensors are not comparable.
              const g = fixture.tensors.get(`grad/${name}`)!;
              if (kind === 'adam' && g.every((v) => Math.abs(v) < 1e-7)) continue;
              expect(relError(store.get(name)!, w), name).toBeLessThan(TOL);
            }
            for (const [name, w] of withPrefix(fixture, 'state/')) expect(relError(store.get(name)!, w), name).toBeLessThan(TOL);
            expect(store.get('optim/step')![0]).toBe(1);
          });
        }
      }
    });
  }
});
