// Reverse-mode autodiff at compile time: appends the backward graph of `loss` to the builder and
// returns the gradient node of each requested node.

import type { GraphBuilder } from '../ir/build.ts';
import { IrError } from '../ir/build.ts';
import type { OpAttrs } from '../ir/ops.ts';
import { GRAD_RULES } from './rules.ts';

/** Ops whose derivative is zero everywhere: nothing behind them is differentiated through them. */
function zeroDerivative(a: OpAttrs): boolean {
  return a.op === 'unary' && (a.fn === 'step' || a.fn === 'sign');
}

/**
 * Gradients of the scalar (or any-shape, seeded with ones) node `loss` with respect to `wrt`.
 * Only nodes on a path from some `wrt` node to `loss` are differentiated. A `wrt` node that the
 * loss does not depend on gets a zero tensor.
 */
export function gradients(b: GraphBuilder, loss: number, wrt: readonly number[]): Map<number, number> {
  const count = loss + 1;
  // needs[i]: node i depends on some wrt node.
  const needs = new Uint8Array(count);
  for (const w of wrt) if (w < count) needs[w] = 1;
  for (let i = 0; i < count; i++) {
    if (!needs[i] && !zeroDerivative(b.node(i).attrs) && b.node(i).inputs.some((j) => needs[j])) needs[i] = 1;
  }
  const grad = new Map<number, number>();
  grad.set(loss, b.within(b.node(loss).layer, () => b.constant(1, b.shape(loss))));
  for (let i = loss; i >= 0; i--) {
    const dy = grad.get(i);
    if (dy === undefined || !needs[i]) continue;
    const node = b.node(i);
    if (node.inputs.length === 0) continue;
    // A node's backward ops, and the sums of gradients flowing into its inputs, belong to its layer.
    b.within(node.layer, () => {
      const dxs = GRAD_RULES[node.attrs.op](b, node, dy);
      node.inputs.forEach((input, k) => {
        const dx = dxs[k];
        if (!needs[input] || dx === null || dx === undefined) return;
        const old = grad.get(input);
        grad.set(input, old === undefined ? dx : b.binary('add', old, dx));
      });
    });
  }
  const out = new Map<number, number>();
  for (const w of wrt) {
    if (w >= b.nodes.length) throw new IrError(`gradients: no node ${w}`);
    out.set(w, grad.get(w) ?? b.within(b.node(w).layer, () => b.constant(0, b.shape(w))));
  }
  return out;
}
