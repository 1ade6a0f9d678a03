// The saturated-sigmoid binary cross-entropy case shared by the CPU and WebGPU tests: a model whose
// logits are its inputs, the PyTorch reference (scripts/bce_fixtures.py), and the program's feeds.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelGraph } from '../../compiler/graph.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { buildGradProgram } from '../../compiler/lower/programs.ts';
import { SEED_FEED } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';

export interface BceReference {
  readonly logits: number[];
  readonly targets: number[];
  readonly loss: number;
  readonly gradWeight: number[];
  readonly gradBias: number[];
}

export const REFERENCE = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/bce/saturated.json'), 'utf8')) as BceReference;

/** `sigmoid` as its own layer or fused in a chain, and probabilities that do not come from a sigmoid. */
export const MODELS = {
  sigmoid: 'model M {\n  input x: 1\n  dense 1 -> sigmoid\n  loss binary_cross_entropy\n}\n',
  clamped: 'model M {\n  input x: 1\n  dense 1 -> relu\n  loss binary_cross_entropy\n}\n',
} as const;

export function graphOf(text: string): ModelGraph {
  const r = compileModel({ file: '/virtual/bce.cnn', text, readText: () => undefined });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.graph;
}

export interface BceRun {
  readonly program: IrProgram;
  readonly feeds: Map<string, Float32Array>;
  readonly store: Map<string, Float32Array>;
}

/** Weight 1 and bias 0, so each example's logit is its input; targets from the reference. */
export function bceRun(text: string, logits = REFERENCE.logits, targets = REFERENCE.targets): BceRun {
  const graph = graphOf(text);
  const { program, lowered } = buildGradProgram(graph, logits.length, 'train');
  const feeds = new Map<string, Float32Array>();
  for (const name of lowered.feeds.keys()) {
    if (name === SEED_FEED) feeds.set(name, Float32Array.of(0));
    else if (name === 'x') feeds.set(name, Float32Array.from(logits));
    else feeds.set(name, Float32Array.from(targets));
  }
  const store = new Map<string, Float32Array>([
    ['dense_1.weight', Float32Array.of(1)],
    ['dense_1.bias', Float32Array.of(0)],
  ]);
  return { program, feeds, store };
}
