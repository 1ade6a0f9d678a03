// WGSL for one fusion group: its bindings, a `store` function holding the epilogue (elementwise
// steps, intermediate writes), and the anchor's main (a tiled GEMM or one invocation per element).

import type { IrNode } from '../../ir/ops.ts';
import { sizeOf } from '../../ir/ops.ts';
import { channelInputs, isElementwise, type ElementwiseAttrs } from '../../ir/traits.ts';
import { groupBindings, type Group } from '../../passes/fuse.ts';
import { isTiled, type KernelOpName, type TiledAttrs } from '../../passes/kernel-ops.ts';
import type { ValueInfo } from '../../passes/lower-kernels.ts';
import { elementwiseExpr } from './elementwise.ts';
import { channelOf, flatBody, type FlatInput } from './flat-ops.ts';
import { bindingDecls, f32Lit, flatGrid, flatIndexExpr, type KernelBinding, type WgslKernel } from './kernel.ts';
import { convForwardGemm, convGradColumnsGemm, convGradInputGemm, convGradWeightGemm, matmulGemm, tiledMain, type GemmShape, type Tiling } from './tiled.ts';

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
  /** The IR node the anchor was lowered from (a partial kernel computes none of its own). */
  readonly source: number;
  /** The anchor's kernel op: the IR node's op, or the piece of it this kernel computes. */
  readonly anchor: KernelOpName;
}

function elementwiseAttrs(step: IrNode): ElementwiseAttrs {
  if (!isElementwise(step.attrs)) throw new Error(`epilogue step ${step.id} (${step.attrs.op}) is not elementwise`);
  return step.attrs;
}

/** WGSL for one group: bindings, a `store` function holding the epilogue, and the anchor's main. */
export function emitGroup(g: Group, values: readonly ValueInfo[], nodes: readonly IrNode[], tiling: Tiling, storageOf: (id: number) => number): FusedKernel {
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
    ep.push(`  let v${k + 1} = ${elementwiseExpr(elementwiseAttrs(step), args)};`, ...(writeAt.get(k + 1) ?? []));
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
  if (isTiled(a.attrs)) {
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
  return { kernel: { label, wgsl, bindings, workgroups }, ...groupBindings(g), output: g.output, nodes: g.nodes, source: g.source, anchor: a.attrs.op };
}

function tiledShape(attrs: TiledAttrs, ins: readonly string[], shapes: readonly (readonly number[])[], out: readonly number[]): GemmShape {
  switch (attrs.op) {
    case 'matmul': return matmulGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, attrs.transA, attrs.transB);
    case 'conv': return convForwardGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_input': return convGradInputGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_weight': return convGradWeightGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out, attrs);
    case 'conv_grad_weight_split': return convGradWeightGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!, out.slice(1), attrs, attrs.splits);
    case 'conv_grad_columns': return convGradColumnsGemm(ins[0]!, ins[1]!, shapes[0]!, shapes[1]!);
  }
}
