// Lowers a fusion plan (compiler/passes/fuse.ts) and its memory plan to one WebAssembly module and
// the list of steps a run performs. Every tensor gets a fixed address in one linear memory
// (planned slots shared by liveness, leaves and consts on their own, a scratch area per thread);
// addresses and shapes are folded into the code. Tiled anchors (convolutions, matmul) and
// elementwise groups become exported functions over a range of examples or elements that threads
// can split, as do pooling, per-channel reductions, batch statistics, softmax over a last axis and
// softmax cross-entropy with its gradient; the remaining anchors (other losses, data movement, other
// reductions: small tensors) run on the host over views of the same memory, followed by their
// epilogue in WebAssembly.

import type { IrNode, OpAttrs } from '../../ir/ops.ts';
import { sizeOf } from '../../ir/ops.ts';
import type { Group, GroupPlan } from '../../passes/fuse.ts';
import type { MemoryPlan } from '../../passes/plan.ts';
import { channelInputs, isElementwise } from '../../ir/traits.ts';
import { columnBytes, columnRows, convGemms, convGeometry, emitColumns, emitTranspose, exampleIn, exampleOut, flippedGeometry, isPointwise, positions, type ConvGeometry } from './conv.ts';
import { channelReduceBody, channelReduceSpec, gradXApplyBody } from './channel-stats.ts';
import { Body, ModuleWriter, type Local } from './encode.ts';
import { MATH_IMPORTS } from './elementwise.ts';
import { epilogueBody, epilogueLayout, type EpilogueInput, type EpilogueSpec, type EpilogueStep } from './epilogue.ts';
import { gemmBody, gemmKey, type GemmSpec } from './gemm.ts';
import { memoryPages } from './memory-pages.ts';
import { poolBody } from './pool.ts';
import { softmaxBody, type SoftmaxSpec } from './softmax.ts';

/** One step of a run, in order. Wasm functions take (lo, hi, scratch) over `units`. */
export type WasmStep =
  | {
      readonly kind: 'wasm';
      readonly label: string;
      readonly fn: string;
      readonly units: number;
      /**
       * Each thread accumulates into its own zeroed `bytes` at the start of its scratch; the
       * partials are then summed into `into` (zeroed first) by `sum(src)` and `then` runs.
       */
      readonly partial?: { readonly bytes: number; readonly into: number; readonly sum: string };
      readonly then?: { readonly fn: string; readonly units: number };
      /** Floating-point operations of a GEMM kernel (2 per multiply-add), for GFLOP/s figures. */
      readonly flops?: number;
    }
  | {
      readonly kind: 'host';
      readonly label: string;
      readonly group: Group;
      /** Where the anchor's value goes; the epilogue (if any) reads it there. */
      readonly dest: number;
      readonly then?: { readonly fn: string; readonly units: number };
    };

export interface WasmProgram {
  /** Imports a memory of `memoryPages(..., 1)` to `memoryPages(..., maxThreads)` pages, shared if `shared`. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The byte of the memory import's shared flag. */
  readonly sharedFlagAt: number;
  readonly steps: readonly WasmStep[];
  /** Byte address of each stored value (by storage id). */
  readonly addressOf: (value: number) => number;
  /** Scratch per thread, at `scratchBase + t * scratchBytes`. */
  readonly scratchBase: number;
  readonly scratchBytes: number;
  readonly maxThreads: number;
  readonly shared: boolean;
}

const align = (n: number): number => Math.ceil(n / 64) * 64;

export function compileWasm(plan: GroupPlan, memory: MemoryPlan, nodes: readonly IrNode[], options: { maxThreads: number; shared: boolean }): WasmProgram {
  const { storageOf, values } = plan;
  // ---- addresses ----
  let top = 64;
  const slotAt = memory.slotBytes.map((b) => {
    const at = top;
    top += align(b);
    return at;
  });
  const own = new Map<number, number>();
  let sealed = false;
  const addressOf = (v: number): number => {
    const s = storageOf(v);
    const slot = memory.slotOf.get(s);
    if (slot !== undefined) return slotAt[slot]!;
    let at = own.get(s);
    if (at === undefined) {
      // Past this point the scratch areas follow: a late tensor would land on them.
      if (sealed) throw new Error(`compileWasm: value ${s} has no address (no kernel writes it)`);
      at = top;
      top += align(Math.max(4, sizeOf(values[s]!.shape) * 4));
      own.set(s, at);
    }
    return at;
  };
  for (const v of values) if (v.kind === 'leaf') addressOf(v.id);

  const writer = new ModuleWriter(options.shared);
  for (const m of MATH_IMPORTS) writer.importFunction(m);
  const gemms = new Map<string, number>();
  const gemm = (s: GemmSpec): number => {
    const key = gemmKey(s);
    let i = gemms.get(key);
    if (i === undefined) {
      i = writer.add(gemmBody(s));
      gemms.set(key, i);
    }
    return i;
  };
  let scratchBytes = 64;
  const steps: WasmStep[] = [];

  plan.groups.forEach((g, gi) => {
    const a = g.anchor;
    const label = [a.attrs.op, ...g.steps.map((s) => s.attrs.op)].join('+');
    // Training batchnorm's application is inference batchnorm over the batch statistics.
    const first = a.attrs.op === 'bn_apply' ? bnApplyStep(g, a.attrs.eps, addressOf) : undefined;
    const elementwise = isElementwise(a.attrs) || first !== undefined;
    const dest = addressOf(g.written.includes(g.chain[0]!) ? g.chain[0]! : g.output);
    const epi = epilogueSpec(g, plan, nodes, addressOf, elementwise ? undefined : dest, first);
    const name = `k${gi}`;
    if (elementwise) {
      writer.add(epilogueBody(epi!), name);
      steps.push({ kind: 'wasm', label, fn: name, units: epilogueLayout(epi!).units });
      return;
    }
    const epiFn = epi ? writer.add(epilogueBody(epi), `${name}_epilogue`) : undefined;
    const then = epi ? { fn: `${name}_epilogue`, units: epilogueLayout(epi).units } : undefined;
    const [x0, x1] = [addressOf(a.inputs[0] ?? 0), addressOf(a.inputs[1] ?? 0)];
    switch (a.attrs.op) {
      case 'conv':
      case 'conv_grad_input':
      case 'conv_grad_weight': {
        const geo = a.attrs.op === 'conv'
          ? convGeometry(a.shapes[0]!, a.shapes[1]!, a.shape, a.attrs)
          : a.attrs.op === 'conv_grad_input'
            ? convGeometry(a.shape, a.shapes[1]!, a.shapes[0]!, a.attrs)
            : convGeometry(a.shapes[0]!, a.shape, a.shapes[1]!, a.attrs);
        const perExample = epi ? epilogueLayout(epi).units / geo.n : 0;
        const flops = 2 * geo.n * exampleOut(geo) * columnRows(geo);
        const body = convBody(a.attrs.op, geo, x0, x1, dest, gemm, epiFn, perExample);
        writer.add(body.fn, name);
        scratchBytes = Math.max(scratchBytes, body.scratch);
        if (a.attrs.op === 'conv_grad_weight') {
          const bytes = sizeOf(a.shape) * 4;
          writer.add(sumBody(columnRows(geo), geo.co, dest), `${name}_sum`);
          steps.push({ kind: 'wasm', label, fn: name, units: geo.n, partial: { bytes, into: dest, sum: `${name}_sum` }, then, flops });
        } else steps.push({ kind: 'wasm', label, fn: name, units: geo.n, flops });
        return;
      }
      case 'matmul': {
        const body = matmulBody(a.attrs, a.shapes[0]!, a.shapes[1]!, x0, x1, dest, gemm);
        writer.add(body.fn, name);
        scratchBytes = Math.max(scratchBytes, body.scratch);
        steps.push({ kind: 'wasm', label, fn: name, units: body.units, then });
        return;
      }
      case 'pool':
      case 'pool_grad': {
        const backward = a.attrs.op === 'pool_grad';
        const [xShape, yShape] = backward ? [a.shape, a.shapes[0]!] : [a.shapes[0]!, a.shape];
        writer.add(poolBody({ attrs: a.attrs, xShape, yShape, backward, x: backward ? x1 : x0, dy: x0, y: dest }), name);
        steps.push({ kind: 'wasm', label, fn: name, units: xShape[0]! * xShape[1]!, then });
        return;
      }
      case 'softmax_cross_entropy':
      case 'softmax_cross_entropy_grad': {
        const grad = a.attrs.op === 'softmax_cross_entropy_grad';
        const [rows, classes] = grad ? [a.shape[0]!, a.shape[1]!] : [a.shapes[0]![0]!, a.shapes[0]![1]!];
        const spec: SoftmaxSpec = grad
          ? { kind: 'cross_entropy_grad', classes, dl: x0, z: x1, t: addressOf(a.inputs[2]!), out: dest }
          : { kind: 'cross_entropy', classes, z: x0, t: x1, out: dest };
        writer.add(softmaxBody(spec), name);
        steps.push({ kind: 'wasm', label, fn: name, units: rows, then });
        return;
      }
      // Along the last axis (a classifier's probabilities); other axes run on the host.
      case 'softmax':
        if (a.attrs.axis === a.shape.length - 1) {
          const classes = a.shape[a.attrs.axis]!;
          writer.add(softmaxBody({ kind: 'softmax', classes, x: x0, out: dest }), name);
          steps.push({ kind: 'wasm', label, fn: name, units: sizeOf(a.shape) / classes, then });
          return;
        }
        steps.push({ kind: 'host', label, group: g, dest, then });
        return;
      case 'bn_grad_x_apply': {
        const [dy, x, gamma, stats] = a.inputs.map(addressOf) as [number, number, number, number];
        writer.add(gradXApplyBody({ shape: a.shape, eps: a.attrs.eps, dy, x, gamma, stats, out: dest }), name);
        steps.push({ kind: 'wasm', label, fn: name, units: a.shape[0]! * a.shape[1]!, then });
        return;
      }
      default: {
        const reduce = channelReduceSpec(a.attrs, a.shapes, a.inputs.map(addressOf), dest);
        if (reduce !== undefined) {
          writer.add(channelReduceBody(reduce), name);
          steps.push({ kind: 'wasm', label, fn: name, units: reduce.kept, then });
        } else steps.push({ kind: 'host', label, group: g, dest, then });
      }
    }
  });

  sealed = true;
  const scratchBase = top;
  const scratch = align(scratchBytes);
  const module = writer.module(memoryPages(scratchBase, scratch, 1), memoryPages(scratchBase, scratch, options.maxThreads));
  return { bytes: module.bytes, sharedFlagAt: module.sharedFlagAt, steps, addressOf, scratchBase, scratchBytes: scratch, maxThreads: options.maxThreads, shared: options.shared };
}

/** The group's epilogue as an EpilogueSpec (v0 loaded from `dest`), or undefined when it has none. */
function epilogueSpec(g: Group, plan: GroupPlan, nodes: readonly IrNode[], addressOf: (v: number) => number, dest: number | undefined, anchorStep?: EpilogueStep): EpilogueSpec | undefined {
  if (dest !== undefined && g.steps.length === 0) return undefined;
  /** Input j of an op computing chain value k + 1 (the anchor: k = -1). */
  const inputOf = (raw: number, j: number, op: string, k: number): EpilogueInput => {
    const v = plan.storageOf(raw);
    const computed = g.chain.indexOf(v);
    if (computed >= 0 && computed <= k) return { kind: 'chain', index: computed };
    const n = nodes[v];
    if (n !== undefined && n.attrs.op === 'const' && plan.values[v]!.kind === 'const' && !g.bound.includes(v)) return { kind: 'literal', value: n.attrs.value };
    if (plan.values[v]!.shape.length === 0) return { kind: 'scalar', address: addressOf(v) };
    if (channelInputs(op).includes(j)) return { kind: 'channel', address: addressOf(v) };
    return { kind: 'full', address: addressOf(v) };
  };
  const steps = g.steps.map((s, k) => ({ attrs: s.attrs, inputs: s.inputs.map((raw, j) => inputOf(raw, j, s.attrs.op, k)) }));
  const stores = [
    ...g.written.filter((w) => !(dest !== undefined && w === g.chain[0])).map((w) => ({ index: g.chain.indexOf(w), address: addressOf(w) })),
    { index: g.steps.length, address: addressOf(g.output) },
  ];
  const first: EpilogueSpec['first'] =
    dest !== undefined
      ? { kind: 'load', address: dest }
      : anchorStep !== undefined
        ? { kind: 'op', step: anchorStep }
        : { kind: 'op', step: { attrs: g.anchor.attrs as OpAttrs, inputs: g.anchor.inputs.map((v, j) => inputOf(v, j, g.anchor.attrs.op, -1)) } };
  return { shape: g.anchor.shape, first, steps, stores };
}

/** bn_apply [x, gamma, beta, stats (mean, then variance)] as a batchnorm step. */
function bnApplyStep(g: Group, eps: number, addressOf: (v: number) => number): EpilogueStep {
  const [x, gamma, beta, stats] = g.anchor.inputs as [number, number, number, number];
  const c = g.anchor.shape[1]!;
  return {
    attrs: { op: 'batchnorm', eps },
    inputs: [
      { kind: 'full', address: addressOf(x) },
      { kind: 'channel', address: addressOf(stats) },
      { kind: 'channel', address: addressOf(stats) + 4 * c },
      { kind: 'channel', address: addressOf(gamma) },
      { kind: 'channel', address: addressOf(beta) },
    ],
  };
}

/** dW[co, r] += partial[r, co]: one thread's transposed weight gradient added in. */
function sumBody(rows: number, co: number, dst: number): Body {
  const f = new Body(['i32']);
  const src = f.param(0);
  const [r, c] = [f.local('i32'), f.local('i32')];
  f.for(c, 0, co, 1, () => {
    f.for(r, 0, rows, 1, () => {
      f.get(c).i32(rows * 4).i32Mul().get(r).i32(4).i32Mul().i32Add();
      f.get(c).i32(rows * 4).i32Mul().get(r).i32(4).i32Mul().i32Add().f32Load(dst);
      f.get(r).i32(co * 4).i32Mul().get(c).i32(4).i32Mul().i32Add().get(src).i32Add().f32Load();
      f.f32Add().f32Store(dst);
    });
  });
  return f;
}

function convBody(op: 'conv' | 'conv_grad_input' | 'conv_grad_weight', g: ConvGeometry, in0: number, in1: number, dest: number, gemm: (s: GemmSpec) => number, epi: number | undefined, perExample: number): { fn: Body; scratch: number } {
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi, scratch] = [f.param(0), f.param(1), f.param(2)];
  const n = f.local('i32');
  const xn = f.local('i32');
  const yn = f.local('i32');
  const cols = f.local('i32');
  const specs = convGemms(g);
  const pointwise = isPointwise(g);
  const [inBytes, outBytes] = [exampleIn(g) * 4, exampleOut(g) * 4];
  if (op === 'conv_grad_weight') {
    // Per thread: the partial dW^T [CiK, Co] (zeroed here), dY[n]^T [P, Co], then the columns.
    const R = columnRows(g);
    const P = positions(g);
    const partial = align(R * g.co * 4);
    const dyt = f.local('i32');
    f.get(scratch).i32(0).i32(partial).memFill();
    f.get(scratch).i32(partial).i32Add().set(dyt);
    const colsAt = partial + align(P * g.co * 4);
    const w = gemm(specs.weight);
    const [co, p] = [f.local('i32'), f.local('i32')];
    f.for(n, lo, hi, 1, () => {
      f.get(n).i32(inBytes).i32Mul().i32(in0).i32Add().set(xn);
      f.get(n).i32(outBytes).i32Mul().i32(in1).i32Add().set(yn);
      emitTranspose(f, yn, dyt, g.co, P, co, p);
      if (pointwise) f.get(xn).set(cols);
      else {
        f.get(scratch).i32(colsAt).i32Add().set(cols);
        emitColumns(f, g, xn, cols, P, 1, false);
      }
      f.get(cols).get(dyt).get(scratch).call(w);
    });
    return { fn: f, scratch: colsAt + (pointwise ? 0 : columnBytes(g)) };
  }
  // The forward convolution, and stride-1 input gradients as the forward convolution of dY with
  // the flipped, transposed kernel (a long reduction over Co x taps instead of a scatter).
  const flipped = op === 'conv_grad_input' ? flippedGeometry(g) : undefined;
  if (op === 'conv' || flipped !== undefined) {
    const gf = flipped ?? g;
    const wBytes = flipped ? align(g.co * columnRows(g) * 4) : 0;
    const k = gemm(convGemms(gf).forward);
    const pw = isPointwise(gf);
    const [perIn, perOut] = [exampleIn(gf) * 4, exampleOut(gf) * 4];
    if (flipped) emitFlippedWeights(f, g, in1, scratch);
    f.for(n, lo, hi, 1, () => {
      f.get(n).i32(perIn).i32Mul().i32(in0).i32Add().set(xn);
      f.get(n).i32(perOut).i32Mul().i32(dest).i32Add().set(yn);
      if (pw) f.get(xn).set(cols);
      else {
        f.get(scratch).i32(wBytes).i32Add().set(cols);
        emitColumns(f, gf, xn, cols, positions(gf), 1, false);
      }
      if (flipped) f.get(scratch);
      else f.i32(in1);
      f.get(cols).get(yn).call(k);
      if (epi !== undefined) f.get(n).i32(perExample).i32Mul().get(n).i32(1).i32Add().i32(perExample).i32Mul().i32(0).call(epi);
    });
    return { fn: f, scratch: wBytes + (pw ? 0 : columnBytes(gf)) };
  }
  // Strided input gradients: columns W^T dY[n], scattered into dX[n] (col2im).
  const k = gemm(specs.input);
  f.for(n, lo, hi, 1, () => {
    f.get(n).i32(outBytes).i32Mul().i32(in0).i32Add().set(xn);
    f.get(n).i32(inBytes).i32Mul().i32(dest).i32Add().set(yn);
    if (pointwise) {
      f.i32(in1).get(xn).get(yn).call(k);
    } else {
      f.get(scratch).set(cols);
      f.i32(in1).get(xn).get(cols).call(k);
      f.get(yn).i32(0).i32(inBytes).memFill();
      emitColumns(f, g, yn, cols, positions(g), 1, true);
    }
    if (epi !== undefined) f.get(n).i32(perExample).i32Mul().get(n).i32(1).i32Add().i32(perExample).i32Mul().i32(0).call(epi);
  });
  return { fn: f, scratch: pointwise ? 0 : columnBytes(g) };
}

/** W'[ci, co, t] = W[co, ci, taps - 1 - t] at `scratch`: the kernel of the input gradient as a convolution. */
function emitFlippedWeights(f: Body, g: ConvGeometry, w: number, scratch: Local): void {
  const taps = g.k[0] * g.k[1] * g.k[2];
  const [co, ci, t] = [f.local('i32'), f.local('i32'), f.local('i32')];
  f.for(co, 0, g.co, 1, () => {
    f.for(ci, 0, g.ci, 1, () => {
      f.for(t, 0, taps, 1, () => {
        f.get(ci).i32(g.co).i32Mul().get(co).i32Add().i32(taps).i32Mul().get(t).i32Add().i32(4).i32Mul().get(scratch).i32Add();
        f.get(co).i32(g.ci).i32Mul().get(ci).i32Add().i32(taps).i32Mul().i32(taps - 1).i32Add().get(t).i32Sub().i32(4).i32Mul().f32Load(w);
        f.f32Store();
      });
    });
  });
}

/** Matmul over its batch (rank 3) or once; a transposed B is copied to scratch first. */
function matmulBody(a: { transA: boolean; transB: boolean }, sa: readonly number[], sb: readonly number[], in0: number, in1: number, dest: number, gemm: (s: GemmSpec) => number): { fn: Body; scratch: number; units: number } {
  const r = sa.length;
  const batch = r === 3 ? sa[0]! : 1;
  const [aRows, aCols, bRows, bCols] = [sa[r - 2]!, sa[r - 1]!, sb[r - 2]!, sb[r - 1]!];
  const M = a.transA ? aCols : aRows;
  const K = a.transA ? aRows : aCols;
  const P = a.transB ? bRows : bCols;
  const spec: GemmSpec = { m: M, n: P, k: K, aRow: a.transA ? 4 : K * 4, aCol: a.transA ? M * 4 : 4, bRow: P * 4, cRow: P * 4, accumulate: false };
  const k = gemm(spec);
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi, scratch] = [f.param(0), f.param(1), f.param(2)];
  const t = f.local('i32');
  const bp = f.local('i32');
  const i = f.local('i32');
  const j = f.local('i32');
  f.for(t, lo, hi, 1, () => {
    f.get(t).i32(bRows * bCols * 4).i32Mul().i32(in1).i32Add().set(bp);
    if (a.transB) {
      // B is [P, K]: scratch[k, p] = B[p, k].
      f.for(i, 0, P, 1, () => {
        f.for(j, 0, K, 1, () => {
          f.get(j).i32(P * 4).i32Mul().get(i).i32(4).i32Mul().i32Add().get(scratch).i32Add();
          f.get(i).i32(K * 4).i32Mul().get(j).i32(4).i32Mul().i32Add().get(bp).i32Add().f32Load();
          f.f32Store();
        });
      });
      f.get(scratch).set(bp);
    }
    f.get(t).i32(aRows * aCols * 4).i32Mul().i32(in0).i32Add().get(bp);
    f.get(t).i32(M * P * 4).i32Mul().i32(dest).i32Add().call(k);
  });
  return { fn: f, scratch: a.transB ? K * P * 4 : 0, units: batch };
}
