// Fusion: groups kernel IR (lower-kernels.ts) into kernels. A kernel is an anchor op (a tiled
// matmul/conv, a per-element op, a reduction, a pool, ...) followed by an epilogue: a sequence of
// elementwise ops (bias, inference batchnorm, activations, residual add, optimizer updates), each
// reading values the kernel already computes and values other kernels wrote before it runs;
// values other kernels read are stored too. Grouping reads op traits only (which ops are
// elementwise, which inputs are per channel). No kernel binds more storage buffers than the
// device allows: when the next op would exceed it, a new kernel starts.

import type { IrNode } from '../ir/ops.ts';
import { resultsOf, type IrProgram } from '../ir/program.ts';
import { channelInputs, isElementwise, OP_TRAITS } from '../ir/traits.ts';
import type { KernelAttrs } from './kernel-ops.ts';
import { lowerToKernels, type KernelGraph, type LowerKernelOptions, type ValueInfo } from './lower-kernels.ts';

export interface FuseOptions extends LowerKernelOptions {
  /** Off: one kernel per op (for tests that compare fused against unfused). */
  readonly fuse?: boolean;
}

/** One kernel of the plan before any code is generated: the WGSL and wasm back ends both read it. */
export interface Group {
  anchor: { attrs: KernelAttrs; inputs: number[]; shapes: (readonly number[])[]; shape: readonly number[] };
  /** Epilogue ops, in order: step k computes chain value k + 1 from any earlier ones. */
  steps: IrNode[];
  nodes: number[];
  /** The IR node the anchor was lowered from (also for a partial result that computes no node). */
  source: number;
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

/** The fusion plan: kernel groups in run order, the values they read and write, reshape aliases. */
export interface GroupPlan {
  readonly groups: readonly Group[];
  readonly values: readonly ValueInfo[];
  readonly storageOf: (id: number) => number;
}

/** A group's kernel arguments: the values it reads, then those it writes (the intermediates, then its output). */
export function groupBindings(g: Group): { args: number[]; reads: number; outputs: number[] } {
  return { args: [...g.bound, ...g.written, g.output], reads: g.bound.length, outputs: [...g.written, g.output] };
}

/** Lowers a program to kernel IR and groups it. */
export function groupProgram(program: IrProgram, options: FuseOptions): GroupPlan {
  return groupKernels(lowerToKernels(program, options), options.maxStorageBuffers, options.fuse ?? true);
}

function groupKernels(graph: KernelGraph, limit: number, fuse: boolean): GroupPlan {
  const { program, values, storageOf } = graph;
  const nodes = program.nodes;
  const viewed = new Set(nodes.filter((n) => OP_TRAITS[n.attrs.op].kind === 'view').map((n) => n.id));

  // Values the step returns or writes back: kernels computing them always store them.
  const results = new Set(resultsOf(program).map(storageOf));
  // Node consumers of each stored value (view consumers mark it as not fusable across).
  const consumers = nodes.map((): number[] => []);
  for (const n of nodes) for (const i of n.inputs) consumers[storageOf(i)]!.push(viewed.has(n.id) ? -1 : n.id);
  // Consts that no kernel fills are literals in the elementwise ops reading them.
  const inlineConst = (id: number): boolean => nodes[id]!.attrs.op === 'const';

  const groups: Group[] = [];
  /** The group computing each value that a later elementwise op may still fuse onto. */
  const memberOf = new Map<number, Group>();

  for (const k of graph.kernels) {
    const n = k.node === undefined ? undefined : nodes[k.node];
    if (fuse && n !== undefined && isElementwise(k.attrs) && tryMerge(n)) continue;
    const ins = k.inputs.map(storageOf);
    const bound = isElementwise(k.attrs) ? [...new Set(ins.filter((v) => !inlineConst(v)))] : [...new Set(ins)];
    if (bound.length + 1 > limit) {
      throw new Error(`kernel for ${k.attrs.op} needs ${bound.length + 1} storage buffers; the device allows ${limit} per stage`);
    }
    const g: Group = { anchor: { attrs: k.attrs, inputs: ins, shapes: k.inputs.map((v) => values[v]!.shape), shape: k.shape }, steps: [], nodes: k.node === undefined ? [] : [k.node], source: k.source, chain: [k.output], bound, output: k.output, written: [], order: k.order };
    groups.push(g);
    memberOf.set(k.output, g);
  }

  /**
   * Fuses elementwise `n` into the kernel computing one of its inputs: its epilogue may read any
   * value the kernel already computes (Adam's moment updates and step share one gradient), and
   * the kernel then runs at n.
   */
  function tryMerge(n: IrNode): boolean {
    const ins = n.inputs.map(storageOf);
    const perChannel = channelInputs(n.attrs.op);
    const candidates = new Set(ins.map((v) => memberOf.get(v)).filter((g) => g !== undefined));
    for (const g of candidates) {
      if (g.anchor.shape.join() !== n.shape.join()) continue;
      if (perChannel.length > 0 && n.shape.length < 2) continue;
      const inKernel = (v: number): boolean => memberOf.get(v) === g;
      // Computed values feed full-shape positions only, and not through a view.
      if (ins.some((v, j) => inKernel(v) && (perChannel.includes(j) || viewed.has(n.inputs[j]!)))) continue;
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
