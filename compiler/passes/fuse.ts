// Fusion: groups an IR program into kernels. A kernel is an anchor op (a tiled matmul/conv, a
// per-element op, a reduction, a pool, ...) followed by an epilogue: a sequence of elementwise
// or per-channel ops (bias, inference batchnorm, activations, residual add, optimizer updates),
// each reading values the kernel already computes and values other kernels wrote before it runs;
// values other kernels read are stored too. No kernel binds more storage buffers than the device
// allows: when the next op would exceed it, a new kernel starts. Some ops become several kernels
// (training batchnorm, convolution gradients by conv-grad-plan.ts, concats of many inputs).

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

/** One kernel of the plan before any code is generated: the WGSL and wasm back ends both read it. */
export interface Group {
  anchor: { attrs: KernelAttrs; inputs: number[]; shapes: (readonly number[])[]; shape: readonly number[] };
  /** Epilogue ops, in order: step k computes chain value k + 1 from any earlier ones. */
  steps: IrNode[];
  nodes: number[];
  /** The values the kernel computes per element: the anchor's (v0), then one per step. */
  chain: number[];
  /** Distinct values bound (inputs), in first-use order. */
  bound: number[];
  output: number;
  /** Intermediate values this kernel also writes because later kernels read them. */
  written: number[];
  /** Where the kernel runs: after the last node it computes (its epilogue may read later values). */
  order: number;
}

export function fuseProgram(program: IrProgram, options: FuseOptions): KernelProgram {
  const plan = groupProgram(program, options);
  const kernels = plan.groups.map((g) => emitGroup(g, plan.values, program.nodes, options.tiling, plan.storageOf));
  return { program, kernels, values: plan.values, storageOf: plan.storageOf };
}

/** The fusion plan: kernel groups in run order, the values they read and write, reshape aliases. */
export interface GroupPlan {
  readonly groups: readonly Group[];
  readonly values: readonly ValueInfo[];
  readonly storageOf: (id: number) => number;
}

export function groupProgram(program: IrProgram, options: FuseOptions): GroupPlan {
  const nodes = program.nodes;
  const values: ValueInfo[] = nodes.map((n) => ({ id: n.id, shape: n.shape, kind: n.attrs.op === 'leaf' ? 'leaf' : n.attrs.op === 'const' ? 'const' : 'node' }));
  const alias = new Map<number, number>();
  const storageOf = (id: number): number => alias.get(id) ?? id;
  for (const n of nodes) if (n.attrs.op === 'reshape') alias.set(n.id, storageOf(n.inputs[0]!));

  // Values the step returns or writes back: kernels computing them always store them.
  const results = new Set([...program.outputs.values(), ...program.updates.map((u) => u.value)].map(storageOf));
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
  /** The group computing each value that a later elementwise op may still fuse onto. */
  const memberOf = new Map<number, Group>();
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
    const g: Group = { anchor: { attrs, inputs: ins, shapes: inputs.map((v) => values[v]!.shape), shape }, steps: [], nodes: node === undefined ? [] : [node], chain: [output], bound, output, written: [], order: orderOf(output) };
    groups.push(g);
    memberOf.set(output, g);
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

  /**
   * Fuses elementwise `n` into the kernel computing one of its inputs: its epilogue may read any
   * value the kernel already computes (Adam's moment updates and step share one gradient), and
   * the kernel then runs at n.
   */
  function tryMerge(n: IrNode): boolean {
    const ins = n.inputs.map(storageOf);
    const candidates = new Set(ins.map((v) => memberOf.get(v)).filter((g) => g !== undefined));
    for (const g of candidates) {
      if (g.anchor.shape.join() !== n.shape.join()) continue;
      if ((n.attrs.op === 'bias_add' || n.attrs.op === 'batchnorm') && n.shape.length < 2) continue;
      const inKernel = (v: number): boolean => memberOf.get(v) === g;
      // Computed values feed full-shape positions only, and not through a reshape.
      const perChannel = channelInputs(n.attrs.op);
      if (ins.some((v, j) => inKernel(v) && (perChannel.includes(j) || alias.has(n.inputs[j]!)))) continue;
      // Moving the kernel to n: nothing it computes may be read by another kernel before n.
      const members = new Set([...g.nodes, n.id]);
      const readers = (w: number): readonly number[] => consumers[w] ?? [];
      if (g.chain.some((w) => readers(w).some((c) => c < 0 || (!members.has(c) && c < n.id)))) continue;
      const distinct = [...new Set(ins.filter((v) => !inKernel(v) && !inlineConst(v) && !g.bound.includes(v)))];
      const written = g.chain.filter((w) => results.has(w) || readers(w).some((c) => !members.has(c)));
      if (g.bound.length + distinct.length + written.length + 1 > limit) continue;
      g.bound.push(...distinct);
      g.steps.push(n);
      g.nodes.push(n.id);
      g.chain.push(n.id);
      g.written = written;
      g.output = n.id;
      g.order = n.id;
      memberOf.set(n.id, g);
      return true;
    }
    return false;
  }

  return { groups: [...groups].sort((p, q) => p.order - q.order), values, storageOf };
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
  // Each written intermediate is stored right after its chain value is computed.
  const writeAt = new Map<number, string[]>();
  g.written.forEach((v, j) => {
    const k = g.chain.indexOf(v);
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
  g.steps.forEach((step, k) => {
    const args = step.inputs.map((raw, j) => {
      const v = storageOf(raw);
      const computed = g.chain.indexOf(v);
      if (computed >= 0 && computed <= k) return `v${computed}`;
      const literal = lit(v);
      if (literal !== undefined) return literal;
      const name = names.get(v)!;
      if (values[v]!.shape.length === 0) return `${name}[0]`;
      if (channelInputs(step.attrs.op).includes(j)) {
        needCh = true;
        return `${name}[ch]`;
      }
      return `${name}[i]`;
    });
    ep.push(`  let v${k + 1} = ${elementwiseExpr(step.attrs as OpAttrs, args)};`, ...(writeAt.get(k + 1) ?? []));
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
  const label = [a.attrs.op, ...g.steps.map((s) => s.attrs.op)].join('+');
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
