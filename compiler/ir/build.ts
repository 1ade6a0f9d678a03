// Builds IR node lists: one helper per op that checks its inputs' shapes and computes the output
// shape, so lowering and autodiff never write a shape by hand.

import type { BinaryFn, ConvOpAttrs, IrNode, LeafRole, OpAttrs, PoolOpAttrs, ReduceFn, UnaryFn } from './ops.ts';
import { sizeOf } from './ops.ts';

export type Shape = readonly number[];

/**
 * A broken IR invariant: a bug in lowering, autodiff or a pass; names the op and shapes. What a user
 * asks for and a model cannot give (no loss, a batch size of 0) is a ProgramRequestError instead.
 */
export class IrError extends Error {
  override readonly name = 'IrError';
}

const fmt = (s: Shape): string => `[${s.join(', ')}]`;

export class GraphBuilder {
  readonly nodes: IrNode[] = [];
  private readonly leaves = new Map<string, number>();

  constructor(existing: readonly IrNode[] = []) {
    for (const n of existing) {
      this.nodes.push(n);
      if (n.attrs.op === 'leaf') this.leaves.set(n.attrs.name, n.id);
    }
  }

  shape(id: number): Shape {
    const n = this.nodes[id];
    if (!n) throw new IrError(`no node ${id}`);
    return n.shape;
  }

  node(id: number): IrNode {
    const n = this.nodes[id];
    if (!n) throw new IrError(`no node ${id}`);
    return n;
  }

  add(attrs: OpAttrs, inputs: readonly number[], shape: Shape): number {
    for (const i of inputs) if (i < 0 || i >= this.nodes.length) throw new IrError(`${attrs.op}: bad input ${i}`);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new IrError(`${attrs.op}: bad output shape ${fmt(shape)}`);
    }
    const id = this.nodes.length;
    const node: IrNode = { id, attrs, inputs: [...inputs], shape: [...shape] };
    this.nodes.push(this.origin === undefined ? node : { ...node, layer: this.origin });
    return id;
  }

  /** The layer nodes added from now on are credited to (IrNode.layer). */
  private origin: string | undefined;

  /** Runs `build` with the nodes it adds credited to `layer` (undefined: to none). */
  within<T>(layer: string | undefined, build: () => T): T {
    const outer = this.origin;
    this.origin = layer;
    try {
      return build();
    } finally {
      this.origin = outer;
    }
  }

  /** A named leaf; asking twice for one name returns the same node (shapes must agree). */
  leaf(name: string, role: LeafRole, shape: Shape): number {
    const old = this.leaves.get(name);
    if (old !== undefined) {
      const n = this.node(old);
      if (n.attrs.op !== 'leaf' || n.attrs.role !== role || fmt(n.shape) !== fmt(shape)) {
        throw new IrError(`leaf ${name} requested as ${role} ${fmt(shape)}, exists as ${fmt(n.shape)}`);
      }
      return old;
    }
    const id = this.add({ op: 'leaf', name, role }, [], shape);
    this.leaves.set(name, id);
    return id;
  }

  findLeaf(name: string): number | undefined {
    return this.leaves.get(name);
  }

  constant(value: number, shape: Shape): number {
    return this.add({ op: 'const', value }, [], shape);
  }

  unary(fn: UnaryFn, x: number, alpha = 0): number {
    return this.add({ op: 'unary', fn, alpha }, [x], this.shape(x));
  }

  unaryGrad(fn: UnaryFn, dy: number, x: number, alpha = 0): number {
    this.same('unary_grad', dy, x);
    return this.add({ op: 'unary_grad', fn, alpha }, [dy, x], this.shape(x));
  }

  binary(fn: BinaryFn, a: number, b: number): number {
    this.same(`binary ${fn}`, a, b);
    return this.add({ op: 'binary', fn }, [a, b], this.shape(a));
  }

  affine(x: number, mul: number, add = 0): number {
    return this.add({ op: 'affine', mul, add }, [x], this.shape(x));
  }

  axpby(a: number, x: number, b: number, y: number): number {
    this.same('axpby', x, y);
    return this.add({ op: 'axpby', a, b }, [x, y], this.shape(x));
  }

  reduce(fn: ReduceFn, x: number, axes: readonly number[]): number {
    const s = this.shape(x);
    const sorted = [...new Set(axes)].sort((p, q) => p - q);
    for (const a of sorted) if (a < 0 || a >= s.length) throw new IrError(`reduce: axis ${a} of ${fmt(s)}`);
    return this.add({ op: 'reduce', fn, axes: sorted }, [x], s.filter((_, i) => !sorted.includes(i)));
  }

  /** Broadcast x to `shape` by inserting `axes` of the output. */
  expand(x: number, axes: readonly number[], shape: Shape): number {
    const kept = shape.filter((_, i) => !axes.includes(i));
    if (fmt(kept) !== fmt(this.shape(x))) {
      throw new IrError(`expand: ${fmt(this.shape(x))} to ${fmt(shape)} over axes ${fmt(axes)}`);
    }
    return this.add({ op: 'expand', axes: [...axes].sort((p, q) => p - q) }, [x], shape);
  }

  /** Expands a per-channel [C] vector to x-like shape [N, C, ...]. */
  perChannel(v: number, like: Shape): number {
    return this.expand(v, allBut(like.length, 1), like);
  }

  biasAdd(x: number, b: number): number {
    const s = this.shape(x);
    if (fmt(this.shape(b)) !== fmt([s[1] ?? -1])) throw new IrError(`bias_add: bias ${fmt(this.shape(b))} for ${fmt(s)}`);
    return this.add({ op: 'bias_add' }, [x, b], s);
  }

  matmul(a: number, b: number, transA = false, transB = false): number {
    const sa = this.shape(a);
    const sb = this.shape(b);
    if (sa.length !== sb.length || (sa.length !== 2 && sa.length !== 3)) {
      throw new IrError(`matmul: ranks of ${fmt(sa)} and ${fmt(sb)}`);
    }
    const r = sa.length;
    const m = transA ? sa[r - 1]! : sa[r - 2]!;
    const ka = transA ? sa[r - 2]! : sa[r - 1]!;
    const kb = transB ? sb[r - 1]! : sb[r - 2]!;
    const p = transB ? sb[r - 2]! : sb[r - 1]!;
    if (ka !== kb || (r === 3 && sa[0] !== sb[0])) throw new IrError(`matmul: ${fmt(sa)} @ ${fmt(sb)}`);
    return this.add({ op: 'matmul', transA, transB }, [a, b], r === 3 ? [sa[0]!, m, p] : [m, p]);
  }

  conv(x: number, w: number, a: Omit<ConvOpAttrs, 'op'>): number {
    const sx = this.shape(x);
    const sw = this.shape(w);
    if (sx.length !== a.rank + 2 || sw.length !== a.rank + 2 || sx[1] !== sw[1]) {
      throw new IrError(`conv: input ${fmt(sx)} and weight ${fmt(sw)}`);
    }
    const out = [sx[0]!, sw[0]!];
    for (let i = 0; i < a.rank; i++) {
      const span = sx[i + 2]! + a.padBefore[i]! + a.padAfter[i]! - a.dilation[i]! * (sw[i + 2]! - 1) - 1;
      if (span < 0) throw new IrError(`conv: kernel larger than padded input ${fmt(sx)} / ${fmt(sw)}`);
      out.push(Math.floor(span / a.stride[i]!) + 1);
    }
    return this.add({ op: 'conv', ...a }, [x, w], out);
  }

  pool(x: number, a: Omit<PoolOpAttrs, 'op'>, ceil = false): number {
    const sx = this.shape(x);
    if (sx.length !== a.rank + 2) throw new IrError(`pool: input ${fmt(sx)} for rank ${a.rank}`);
    const out = [sx[0]!, sx[1]!];
    for (let i = 0; i < a.rank; i++) {
      const span = sx[i + 2]! + a.padBefore[i]! + a.padAfter[i]! - a.kernel[i]!;
      if (span < 0) throw new IrError(`pool: window larger than padded input ${fmt(sx)}`);
      let o = (ceil ? Math.ceil(span / a.stride[i]!) : Math.floor(span / a.stride[i]!)) + 1;
      // PyTorch: the last window must start inside the input or the left padding.
      if (ceil && (o - 1) * a.stride[i]! >= sx[i + 2]! + a.padBefore[i]!) o--;
      out.push(o);
    }
    return this.add({ op: 'pool', ...a }, [x], out);
  }

  reshape(x: number, shape: Shape): number {
    if (sizeOf(shape) !== sizeOf(this.shape(x))) throw new IrError(`reshape: ${fmt(this.shape(x))} to ${fmt(shape)}`);
    return this.add({ op: 'reshape' }, [x], shape);
  }

  concat(xs: readonly number[], axis: number): number {
    const first = this.shape(xs[0]!);
    const out = [...first];
    out[axis] = 0;
    for (const x of xs) {
      const s = this.shape(x);
      if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
        throw new IrError(`concat: ${fmt(s)} and ${fmt(first)} along axis ${axis}`);
      }
      out[axis]! += s[axis]!;
    }
    return this.add({ op: 'concat', axis }, xs, out);
  }

  slice(x: number, starts: readonly number[], shape: Shape): number {
    const s = this.shape(x);
    if (starts.length !== s.length || shape.some((d, i) => starts[i]! + d > s[i]!)) {
      throw new IrError(`slice: ${fmt(shape)} at ${fmt(starts)} of ${fmt(s)}`);
    }
    return this.add({ op: 'slice', starts }, [x], shape);
  }

  pad(x: number, before: readonly number[], after: readonly number[]): number {
    const s = this.shape(x);
    const out = s.map((d, i) => (i < 2 ? d : d + before[i - 2]! + after[i - 2]!));
    return this.add({ op: 'pad', before, after }, [x], out);
  }

  private same(what: string, a: number, b: number): void {
    if (fmt(this.shape(a)) !== fmt(this.shape(b))) {
      throw new IrError(`${what}: shapes ${fmt(this.shape(a))} and ${fmt(this.shape(b))} differ`);
    }
  }
}

/** Every axis of a rank-r tensor except `keep`. */
export function allBut(rank: number, keep: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rank; i++) if (i !== keep) out.push(i);
  return out;
}
