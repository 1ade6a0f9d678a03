// Fusion: groups an IR program into kernels. A kernel is an anchor op (a tiled matmul/conv, a
// per-element op, a reduction, a pool, ...) followed by an epilogue: a chain of elementwise or
// per-channel ops (bias, inference batchnorm, activations, residual add, optimizer updates) each
// consuming the previous result as its only use. No kernel binds more storage buffers than the
// device allows: when the next op would exceed it, a new kernel starts.

import type { IrNode, OpAttrs } from '../ir/ops.ts';
import type { IrProgram } from '../ir/program.ts';
import { channelInputs, elementwiseExpr, FUSABLE_OPS } from '../codegen/wgsl/elementwise.ts';
import { channelOf, flatBody, type FlatInput, type KernelAttrs } from '../codegen/wgsl/flat-ops.ts';
import { bindingDecls, f32Lit, flatGrid, flatIndexExpr, type KernelBinding, type WgslKernel } from '../codegen/wgsl/kernel.ts';
import { convForwardGemm, convGradColumnsGemm, convGradInputGemm, convGradWeightGemm, matmulGemm, tiledMain, type GemmShape, type Tiling } from '../codegen/wgsl/tiled.ts';
import { sizeOf } from '../ir/ops.ts';
import { inputGradByColumns, weightGradSplits, type ConvGradForm } from './conv-grad-plan.ts';

/** A tensor the kernels read or write: an IR node's value, or a scratch tensor (ids past the nodes). */
export interface ValueInfo {
  readonly id: number;
  readonly shape: readonly number[];
  readonly kind: 'leaf' | 'const' | 'node' | 'scratch';
}

export interface FusedKernel {
  readonly kernel: WgslKernel;
  /** The value bound at each binding, in binding order: `reads` inputs, then the outputs. */
  readonly args: readonly number[];
  readonly reads: number;
  /** Values written: intermediates other kernels still need, then the final value. */
  readonly outputs: readonly number[];
  readonly output: number;
  /** IR nodes this kernel computes (the anchor first). */
  readonly nodes: readonly number[];
}

export interface KernelProgram {
  readonly program: IrProgram;
  readonly kernels: readonly FusedKernel[];
  readonly values: readonly ValueInfo[];
  /** Value holding each node's data (reshape nodes share their input's buffer). */
  readonly storageOf: (id: number) => number;
}

export interface FuseOptions {
  readonly maxStorageBuffers: number;
  readonly tiling: Tiling;
  /** Off: one kernel per op (for tests that compare fused against unfused). */
  readonly fuse?: boolean;
  /** How convolution gradients are computed (default: by estimated work). */
  readonly convGrad?: ConvGradForm;
}

const TILED_OPS = new Set(['matmul', 'conv', 'conv_grad_input', 'conv_grad_weight', 'conv_grad_weight_split', 'conv_grad_columns']);

interface Group {
  anchor: { attrs: KernelAttrs; inputs: number[]; shapes: (readonly number[])[]; shape: readonly number[] };
  /** Epilogue ops: the node and which input position takes the chained value. */
  steps: { node: IrNode; chained: number }[];
  nodes: number[];
  /** Distinct values bound (inputs), in first-use order. */
  bound: number[];
  output: number;
  /** Intermediate values this kernel also writes because later kernels read them. */
  written: number[];
  open: boolean;
  /** Where the kernel runs: after the last node it computes (its epilogue may read later values). */
  order: number;
}

export function fuseProgram(program: IrProgram, options: FuseOptions): KernelProgram {
  const nodes = program.nodes;
  const values: ValueInfo[] = nodes.map((n) => ({ id: n.id, shape: n.shape, kind: n.attrs.op === 'leaf' ? 'leaf' : n.attrs.op === 'const' ? 'const' : 'node' }));
  const alias = new Map<number, number>();
  const storageOf = (id: number): number => alias.get(id) ?? id;
  for (const n of nodes) if (n.attrs.op === 'reshape') alias.set(n.id, storageOf(n.inputs[0]!));

  // Uses of each stored value: by nodes, outputs and updates (an alias counts as a use of its source).
  const uses = new Array<number>(nodes.length).fill(0);
  for (const n of nodes) for (const i of n.inputs) uses[storageOf(i)]!++;
  for (const v of program.outputs.values()) uses[storageOf(v)]! += 2;
  for (const u of program.updates) uses[storageOf(u.value)]! += 2;
  // Node consumers of each stored value (reshape consumers mark it as not fusable across).
  const consumers = nodes.map((): number[] => []);
  for (const n of nodes) for (const i of n.inputs) consumers[storageOf(i)]!.push(n.attrs.op === 'reshape' ? -1 : n.id);

  // Consts feeding only fusable ops become literals; others get a kernel that fills them.
  const inlineConst = (id: number): boolean => nodes[id]!.attrs.op === 'const';
  const constNeedsBuffer = new Set<number>();
  for (const n of nodes) {
    if (n.attrs.op === 'reshape') continue;
    n.inputs.forEach((i) => {
      const s = storageOf(i);
      if (nodes[s]?.attrs.op === 'const' && !(FUSABLE_OPS.has(n.attrs.op) && sizeOf(nodes[s]!.shape) >= 1)) constNeedsBuffer.add(s);
    });
  }
  for (const v of [...program.outputs.values(), ...program.updates.map((u) => u.value)]) {
    if (nodes[storageOf(v)]!.attrs.op === 'const') constNeedsBuffer.add(storageOf(v));
  }

  const groups: Group[] = [];
  const openGroupOf = new Map<number, Group>();
  const limit = options.maxStorageBuffers;
  const fuse = options.fuse ?? true;
  const convGrad = options.convGrad ?? 'auto';

  // Scratch tensors are made just before the node that needs them.
  const orderOf = (v: number): number => (v < nodes.length ? v : scratchFor.get(v)! - 0.5);
  const scratchFor = new Map<number, number>();
  const scratch = (shape: readonly number[], node: number): number => {
    const id = values.length;
    values.push({ id, shape, kind: 'scratch' });
    scratchFor.set(id, node);
    return id;
  };
  const start = (attrs: KernelAttrs, inputs: readonly number[], shape: readonly number[], output: number, node?: number): Group => {
    const ins = inputs.map(storageOf);
    const bound = FUSABLE_OPS.has(attrs.op) ? [...new Set(ins.filter((v) => !inlineConst(v)))] : [...new Set(ins)];
    if (bound.length + 1 > limit) {
      throw new Error(`kernel for ${attrs.op} needs ${bound.length + 1} storage buffers; the device allows ${limit} per stage`);
    }
    const g: Group = { anchor: { attrs, inputs: ins, shapes: inputs.map((v) => values[v]!.shape), shape }, steps: [], nodes: node === undefined ? [] : [node], bound, output, written: [], open: true, order: orderOf(output) };
    groups.push(g);
    openGroupOf.set(output, g);
    return g;
  };

  for (const n of nodes) {
    const op = n.attrs.op;
    if (op === 'leaf' || op === 'reshape') continue;
    if (op === 'const') {
      if (constNeedsBuffer.has(n.id)) start(n.attrs, [], n.shape, n.id, n.id);
      continue;
    }
    if (fuse && FUSABLE_OPS.has(op)) {
      const merged = tryMerge(n);
      if (merged) continue;
    }
    if (op === 'batchnorm_train') {
      const [x, g, b] = n.inputs;
      const c = n.shape[1]!;
      const st = scratch([2 * c], n.id);
      start({ op: 'bn_stats' }, [x!], [2 * c], st);
      start({ op: 'bn_apply', eps: n.attrs.eps }, [x!, g!, b!, st], n.shape, n.id, n.id);
      continue;
    }
    if (op === 'batchnorm_train_grad_x') {
      const [dy, x, g] = n.inputs;
      const c = n.shape[1]!;
      const st = scratch([4 * c], n.id);
      start({ op: 'bn_grad_stats', eps: n.attrs.eps }, [dy!, x!], [4 * c], st);
      start({ op: 'bn_grad_x_apply', eps: n.attrs.eps }, [dy!, x!, g!, st], n.shape, n.id, n.id);
      continue;
    }
    if (op === 'concat' && new Set(n.inputs.map(storageOf)).size + 1 > limit) {
      startConcatTree(n, n.attrs.axis);
      continue;
    }
    if (op === 'conv_grad_weight') {
      const [x, dy] = n.inputs;
      const splits = weightGradSplits(values[dy!]!.shape, n.shape, options.tiling, convGrad);
      if (splits > 1) {
        const parts = scratch([splits, ...n.shape], n.id);
        start({ ...n.attrs, op: 'conv_grad_weight_split', splits }, [x!, dy!], [splits, ...n.shape], parts);
        start({ op: 'sum_splits', splits }, [parts], n.shape, n.id, n.id);
        continue;
      }
    }
    if (op === 'conv_grad_input') {
      const [dy, w] = n.inputs;
      const [dyShape, wShape] = [values[dy!]!.shape, values[w!]!.shape];
      if (inputGradByColumns(dyShape, wShape, n.shape, options.tiling, convGrad)) {
        const columns = scratch([sizeOf(wShape) / wShape[0]!, dyShape[0]! * sizeOf(dyShape.slice(2))], n.id);
        start({ ...n.attrs, op: 'conv_grad_columns' }, [dy!, w!], values[columns]!.shape, columns);
        start({ ...n.attrs, op: 'col2im', kernel: wShape.slice(2), outSpatial: dyShape.slice(2) }, [columns], n.shape, n.id, n.id);
        continue;
      }
    }
    start(n.attrs, [...n.inputs], n.shape, n.id, n.id);
  }

  /** A concat of more inputs than a kernel may bind: runs of inputs go into scratch tensors first. */
  function startConcatTree(n: IrNode, axis: number): void {
    let parts = [...n.inputs];
    while (new Set(parts.map(storageOf)).size + 1 > limit) {
      const next: number[] = [];
      for (let i = 0; i < parts.length; i += limit - 1) {
        const run = parts.slice(i, i + limit - 1);
        if (run.length === 1) {
          next.push(run[0]!);
          continue;
        }
        const shape = values[run[0]!]!.shape.map((d, a) => (a === axis ? run.reduce((sum, v) => sum + values[v]!.shape[a]!, 0) : d));
        const part = scratch(shape, n.id);
        start({ op: 'concat', axis }, run, shape, part);
        next.push(part);
      }
      parts = next;
    }
    start(n.attrs, parts, n.shape, n.id, n.id);
  }

  function tryMerge(n: IrNode): boolean {
    const ins = n.inputs.map(storageOf);
    for (let pos = 0; pos < ins.length; pos++) {
      const p = ins[pos]!;
      const g = openGroupOf.get(p);
      if (g === undefined || !g.open || g.output !== p) continue;
      // With other users, p is also written, provided they all run after this kernel (at n).
      const shared = uses[p] !== 1;
      if (shared && consumers[p]!.some((c) => c !== n.id && (c < 0 || c < n.id))) continue;
      if (shared && consumers[p]!.filter((c) => c === n.id).length > 1) continue;
      // Merging moves the kernel to n: every value it already writes for others must still be read later.
      if (g.written.some((w) => consumers[w]!.some((c) => c !== n.id && !g.nodes.includes(c) && (c < 0 || c < n.id)))) continue;
      if (alias.has(n.inputs[pos]!)) continue;
      if (sizeOf(values[p]!.shape) !== sizeOf(n.shape) || values[p]!.shape.join() !== n.shape.join()) continue;
      if (channelInputs(n.attrs.op).includes(pos)) continue;
      if (n.attrs.op === 'bias_add' || n.attrs.op === 'batchnorm') {
        if (n.shape.length < 2) continue;
      }
      const extra = ins.filter((v, j) => j !== pos && v !== p && !inlineConst(v) && !g.bound.includes(v));
      const distinct = [...new Set(extra)];
      if (g.bound.length + distinct.length + g.written.length + (shared ? 1 : 0) + 1 > limit) continue;
      // A value written by this group's own anchor cannot be read back inside it.
      if (distinct.some((v) => g.nodes.includes(v))) continue;
      g.bound.push(...distinct);
      g.steps.push({ node: n, chained: pos });
      g.nodes.push(n.id);
      openGroupOf.delete(p);
      if (shared) g.written.push(p);
      g.output = n.id;
      g.order = n.id;
      openGroupOf.set(n.id, g);
      return true;
    }
    return false;
  }

  const kernels = [...groups].sort((p, q) => p.order - q.order).map((g) => emitGroup(g, values, nodes, options.tiling, storageOf));
  return { program, kernels, values, storageOf };
}

/** WGSL for one group: bindings, a `store` function holding the epilogue, and the anchor's main. */
function emitGroup(g: Group, values: readonly ValueInfo[], nodes: readonly IrNode[], tiling: Tiling, storageOf: (id: number) => number): FusedKernel {
  const names = new Map<number, string>();
  g.bound.forEach((v, j) => names.set(v, `in${j}`));
  const bindings: KernelBinding[] = [
    ...g.bound.map((v) => ({ name: names.get(v)!, access: 'read' as const })),
    ...g.written.map((_, j) => ({ name: `out${j}`, access: 'read_write' as const })),
    { name: 'out', access: 'read_write' },
  ];
  // The value index (v0 = anchor, vK = after step K) of each written intermediate.
  const writeAt = new Map<number, string[]>();
  g.written.forEach((v, j) => {
    const k = v === g.nodes[0] || g.steps.every((s) => s.node.id !== v) ? 0 : g.steps.findIndex((s) => s.node.id === v) + 1;
    writeAt.set(k, [...(writeAt.get(k) ?? []), `  out${j}[i] = v${k};`]);
  });
  const shape = g.anchor.shape;
  const lit = (v: number): string | undefined => {
    const a = nodes[v]?.attrs;
    return a !== undefined && a.op === 'const' && values[v]!.kind === 'const' && !g.bound.includes(v) ? f32Lit(a.value) : undefined;
  };
  const inputOf = (v: number, j: number): FlatInput => ({ name: names.get(v) ?? 'unbound', shape: g.anchor.shapes[j]!, literal: lit(v) });

  // Epilogue: v1..vK from v0.
  const ep: string[] = [];
  let needCh = false;
  g.steps.forEach((s, k) => {
    const args = s.node.inputs.map((raw, j) => {
      if (j === s.chained) return `v${k}`;
      const v = storageOf(raw);
      const literal = lit(v);
      if (literal !== undefined) return literal;
      const name = names.get(v);
      if (name === undefined) return `v${k}`; // the chained value used twice
      if (values[v]!.shape.length === 0) return `${name}[0]`;
      if (channelInputs(s.node.attrs.op).includes(j)) {
        needCh = true;
        return `${name}[ch]`;
      }
      return `${name}[i]`;
    });
    ep.push(`  let v${k + 1} = ${elementwiseExpr(s.node.attrs as OpAttrs, args)};`, ...(writeAt.get(k + 1) ?? []));
  });
  const store = [
    'fn store(i: u32, v0: f32) {',
    needCh ? `  let ch = ${channelOf('i', shape)};` : '',
    ...(writeAt.get(0) ?? []),
    ...ep,
    `  out[i] = v${g.steps.length};`,
    '}',
  ].filter((l) => l !== '').join('\n');

  const a = g.anchor;
  let main: string;
  let workgroups: [number, number, number];
  let helpers = '';
  if (TILED_OPS.has(a.attrs.op)) {
    const gemm = tiledShape(a.attrs, a.inputs.map((v) => names.get(v)!), a.shapes, shape);
    ({ main, workgroups } = tiledMain(gemm, tiling));
  } else {
    const ins = a.inputs.map(inputOf);
    const fb = flatBody(a.attrs, shape, ins);
    helpers = fb.helpers;
    const total = fb.invocations ?? sizeOf(shape);
    workgroups = flatGrid(total);
    main = `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = ${flatIndexExpr(workgroups[0])};
  if (i >= ${total}u) { return; }
${fb.body}${fb.invocations === undefined ? '\n  store(i, v0);' : ''}
}`;
  }
  const label = [a.attrs.op, ...g.steps.map((s) => s.node.attrs.op)].join('+');
  const wgsl = [bindingDecls(bindings), helpers, store, main].filter((s) => s !== '').join('\n\n') + '\n';
  return { kernel: { label, wgsl, bindings, workgroups }, args: [...g.bound, ...g.written, g.output], reads: g.bound.length, outputs: [...g.written, g.output], output: g.output, nodes: g.nodes };
}

function tiledShape(attrs: KernelAttrs, ins: readonly string[], shapes: readonly (readonly number[])[], out: readonly number[]): GemmShape {
  switch (attrs.op) {
    case 'matmul': return matmulGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, attrs.transA, attrs.transB);
    case 'conv': return convForwardGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_input': return convGradInputGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_weight': return convGradWeightGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_weight_split': return convGradWeightGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out.slice(1), attrs, attrs.splits);
    case 'conv_grad_columns': return convGradColumnsGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!);
    default: throw new Error(`tiledShape: ${attrs.op}`);
  }
}
