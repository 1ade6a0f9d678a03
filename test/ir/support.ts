// Test helpers for the IR: a seeded RNG and a finite-difference gradient checker.

import { gradients } from '../../compiler/autodiff/gradients.ts';
import { GraphBuilder } from '../../compiler/ir/build.ts';
import { sizeOf } from '../../compiler/ir/ops.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { evaluate } from '../../runtime/reference/executor.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How to fill a checked input: kinks of relu/abs/max are avoided by 'away' and 'distinct'. */
export type Init = 'normal' | 'positive' | 'away' | 'distinct';

export function fill(shape: readonly number[], init: Init, rand: () => number): Float32Array {
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  if (init === 'distinct') {
    // A shuffled ladder with steps of 0.1: no two values within 2 * eps of each other.
    for (let i = 0; i < n; i++) out[i] = (i - n / 2) * 0.1;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const u = rand() * 2 - 1;
    if (init === 'normal') out[i] = u;
    else if (init === 'positive') out[i] = 0.5 + rand();
    else out[i] = Math.sign(u || 1) * (0.2 + Math.abs(u));
  }
  return out;
}

export interface CheckInput {
  readonly shape: readonly number[];
  readonly init?: Init;
  /** Fed but neither differentiated nor checked (running statistics, labels). */
  readonly fixed?: boolean;
}

export interface CheckResult {
  /** Largest |analytic - numeric| / max(1, |numeric|) over every element of every input. */
  readonly maxError: number;
  readonly checked: number;
}

/**
 * Builds `out = build(inputs)`, loss = sum(out * R) for a random R, and compares autodiff's
 * gradient of every input with central differences (eps 1e-2 unless told).
 */
export function gradCheck(
  inputs: Record<string, CheckInput>,
  build: (b: GraphBuilder, x: Record<string, number>) => number,
  seed = 1,
  eps = 1e-2,
): CheckResult {
  const rand = rng(seed);
  const b = new GraphBuilder();
  const ids: Record<string, number> = {};
  const feeds = new Map<string, Float32Array>();
  for (const [name, spec] of Object.entries(inputs)) {
    ids[name] = b.leaf(name, 'feed', spec.shape);
    feeds.set(name, fill(spec.shape, spec.init ?? 'normal', rand));
  }
  const out = build(b, ids);
  const r = b.leaf('__r', 'feed', b.shape(out));
  feeds.set('__r', fill(b.shape(out), 'normal', rand));
  const loss = b.reduce('sum', b.binary('mul', out, r), b.shape(out).map((_, i) => i));
  const checkedNames = Object.keys(ids).filter((n) => !inputs[n]!.fixed);
  const wrt = checkedNames.map((n) => ids[n]!);
  const grads = gradients(b, loss, wrt);
  const outputs = new Map<string, number>([['loss', loss]]);
  for (const name of checkedNames) outputs.set(name, grads.get(ids[name]!)!);
  const program: IrProgram = { nodes: b.nodes, outputs, updates: [] };
  const values = evaluate(program, feeds, new Map());
  const forward: IrProgram = { nodes: b.nodes.slice(0, loss + 1), outputs: new Map(), updates: [] };
  const lossAt = (): number => {
    const v = evaluate(forward, feeds, new Map());
    return v[loss]![0]!;
  };
  let maxError = 0;
  let checked = 0;
  for (const name of checkedNames) {
    const id = ids[name]!;
    const x = feeds.get(name)!;
    const g = values[grads.get(id)!]!;
    for (let i = 0; i < x.length; i++) {
      const old = x[i]!;
      x[i] = old + eps;
      const up = lossAt();
      x[i] = old - eps;
      const down = lossAt();
      x[i] = old;
      const numeric = (up - down) / (2 * eps);
      maxError = Math.max(maxError, Math.abs(g[i]! - numeric) / Math.max(1, Math.abs(numeric)));
      checked++;
    }
  }
  return { maxError, checked };
}
