// A fused elementwise pass: the value v0 (an anchor's result already in memory, or an elementwise
// anchor computed here) runs through the group's epilogue steps, and the values other kernels
// read are stored. Buffer addresses are folded into the loads and stores. The pass covers a range
// of units, so a convolution runs it on each example's planes while they are still in cache and
// worker threads split it: planes (n, c) when a step reads per-channel vectors, else elements.

import type { OpAttrs } from '../../ir/ops.ts';
import { Body, type Local } from './encode.ts';
import { emitElementwise, hasVectorForm, type Lanes, type Operand } from './elementwise.ts';

/** Where an epilogue step's input comes from. */
export type EpilogueInput =
  /** A value this pass computed: 0 = v0, k = after step k. */
  | { readonly kind: 'chain'; readonly index: number }
  | { readonly kind: 'literal'; readonly value: number }
  /** A one-element tensor (lr, t) at `address`. */
  | { readonly kind: 'scalar'; readonly address: number }
  /** A per-channel vector, read at the element's channel. */
  | { readonly kind: 'channel'; readonly address: number }
  /** A tensor of the pass's shape, read at the element. */
  | { readonly kind: 'full'; readonly address: number };

export interface EpilogueStep {
  readonly attrs: OpAttrs;
  readonly inputs: readonly EpilogueInput[];
}

export interface EpilogueSpec {
  readonly shape: readonly number[];
  /** v0: loaded from `address`, or computed by an elementwise anchor (step with no chain inputs). */
  readonly first: { readonly kind: 'load'; readonly address: number } | { readonly kind: 'op'; readonly step: EpilogueStep };
  readonly steps: readonly EpilogueStep[];
  /** Chain values to store, by index, at their addresses. */
  readonly stores: readonly { readonly index: number; readonly address: number }[];
}

export interface EpilogueLayout {
  /** Units are planes (n, c) of `inner` elements, or single elements. */
  readonly byPlane: boolean;
  readonly units: number;
  /** Elements per unit. */
  readonly inner: number;
  /** Channels per example (planes only). */
  readonly channels: number;
}

export function epilogueLayout(spec: EpilogueSpec): EpilogueLayout {
  const all = spec.first.kind === 'op' ? [spec.first.step, ...spec.steps] : spec.steps;
  const byPlane = all.some((s) => s.inputs.some((i) => i.kind === 'channel'));
  const total = spec.shape.reduce((a, b) => a * b, 1);
  if (!byPlane) return { byPlane, units: total, inner: 1, channels: 1 };
  const [n, c] = [spec.shape[0]!, spec.shape[1]!];
  return { byPlane, units: n * c, inner: total / (n * c), channels: c };
}

/** A function (lo, hi, scratch) running the pass over units [lo, hi) (scratch is unused). */
export function epilogueBody(spec: EpilogueSpec): Body {
  const layout = epilogueLayout(spec);
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi] = [f.param(0), f.param(1)];
  const all = spec.first.kind === 'op' ? [spec.first.step, ...spec.steps] : spec.steps;
  const vector = all.every((s) => hasVectorForm(s.attrs));

  // Scalars are read once per call; channel values once per plane.
  const scalars = new Map<number, { s: Local; v: Local }>();
  const channels = new Map<number, { s: Local; v: Local }>();
  for (const s of all) {
    for (const i of s.inputs) {
      if (i.kind !== 'scalar' && i.kind !== 'channel') continue;
      const into = i.kind === 'scalar' ? scalars : channels;
      if (!into.has(i.address)) into.set(i.address, { s: f.local('f32'), v: f.local('v128') });
    }
  }
  for (const [address, l] of scalars) f.i32(0).f32Load(address).tee(l.s).splat().set(l.v);

  const e = f.local('i32'); // byte offset of the element
  const chain = { s: [f.local('f32')], v: [f.local('v128')] };
  for (let k = 0; k < spec.steps.length; k++) {
    chain.s.push(f.local('f32'));
    chain.v.push(f.local('v128'));
  }

  const operand = (i: EpilogueInput, lanes: Lanes): Operand => {
    const v = lanes === 'f32x4';
    switch (i.kind) {
      case 'chain': return () => f.get(v ? chain.v[i.index]! : chain.s[i.index]!);
      case 'literal': return () => (v ? f.v128Const(i.value) : f.f32(i.value));
      case 'scalar': return () => f.get(v ? scalars.get(i.address)!.v : scalars.get(i.address)!.s);
      case 'channel': return () => f.get(v ? channels.get(i.address)!.v : channels.get(i.address)!.s);
      case 'full': return () => (v ? f.get(e).v128Load(i.address) : f.get(e).f32Load(i.address));
    }
  };
  /** One element (f32) or four (f32x4) at byte offset e. */
  const element = (lanes: Lanes): void => {
    const v = lanes === 'f32x4';
    const locals = v ? chain.v : chain.s;
    if (spec.first.kind === 'load') {
      f.get(e);
      if (v) f.v128Load(spec.first.address);
      else f.f32Load(spec.first.address);
    } else emitElementwise(f, spec.first.step.attrs, spec.first.step.inputs.map((i) => operand(i, lanes)), lanes);
    f.set(locals[0]!);
    spec.steps.forEach((s, k) => {
      emitElementwise(f, s.attrs, s.inputs.map((i) => operand(i, lanes)), lanes);
      f.set(locals[k + 1]!);
    });
    for (const st of spec.stores) {
      f.get(e).get(locals[st.index]!);
      if (v) f.v128Store(st.address);
      else f.f32Store(st.address);
    }
  };
  /** Elements from byte offset `from` to `to` (locals), four at a time where possible. */
  const run = (from: Local, to: Local): void => {
    const vecEnd = f.local('i32');
    if (vector) {
      f.get(to).get(from).i32Sub().i32(-16).i32And().get(from).i32Add().set(vecEnd);
      f.for(e, from, vecEnd, 16, () => element('f32x4'));
    } else f.get(from).set(vecEnd);
    f.for(e, vecEnd, to, 4, () => element('f32'));
  };

  const from = f.local('i32');
  const to = f.local('i32');
  if (!layout.byPlane) {
    f.get(lo).i32(4).i32Mul().set(from);
    f.get(hi).i32(4).i32Mul().set(to);
    run(from, to);
    return f;
  }
  const p = f.local('i32');
  f.for(p, lo, hi, 1, () => {
    for (const [address, l] of channels) {
      f.get(p).i32(layout.channels).i32RemU().i32(4).i32Mul().f32Load(address).tee(l.s).splat().set(l.v);
    }
    f.get(p).i32(layout.inner * 4).i32Mul().tee(from).i32(layout.inner * 4).i32Add().set(to);
    run(from, to);
  });
  return f;
}
