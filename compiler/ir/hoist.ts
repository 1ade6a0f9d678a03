// Splits a program that runs many times with only some feeds changing into a part computed once
// (everything that depends on the fixed feeds but not on the changing ones: in style transfer, the
// content and style images' activations and Gram matrices) and a part run each time, which reads
// those values as feeds.

import type { IrNode } from './ops.ts';
import { pruneProgram, type IrProgram } from './program.ts';

export interface HoistedProgram {
  /** Outputs every hoisted value under its feed name; reads only the fixed feeds and params. */
  readonly once: IrProgram;
  /** The original outputs, reading the hoisted values as feeds. */
  readonly each: IrProgram;
}

/** Feed name under which a hoisted node's value reaches `each`. */
const hoistedName = (id: number): string => `hoisted:${id}`;

export function hoistInvariants(program: IrProgram, varying: ReadonlySet<string>): HoistedProgram {
  const nodes = program.nodes;
  const varies = new Uint8Array(nodes.length);
  // fixedFeed: depends on some feed that does not vary (worth computing once; params alone are not).
  const fixedFeed = new Uint8Array(nodes.length);
  for (const n of nodes) {
    if (n.attrs.op === 'leaf' && n.attrs.role === 'feed') {
      if (varying.has(n.attrs.name)) varies[n.id] = 1;
      else fixedFeed[n.id] = 1;
    }
    for (const i of n.inputs) {
      varies[n.id] ||= varies[i]!;
      fixedFeed[n.id] ||= fixedFeed[i]!;
    }
  }
  const hoistable = (id: number): boolean => !varies[id] && fixedFeed[id] === 1 && nodes[id]!.attrs.op !== 'leaf';
  // The frontier: hoistable values read by a varying node or returned directly.
  const frontier = new Set<number>();
  for (const n of nodes) if (varies[n.id]) for (const i of n.inputs) if (hoistable(i)) frontier.add(i);
  for (const id of program.outputs.values()) if (hoistable(id)) frontier.add(id);

  const once = pruneProgram({ nodes, outputs: new Map([...frontier].map((id) => [hoistedName(id), id])), updates: [] });
  const replaced: IrNode[] = nodes.map((n) => (frontier.has(n.id) ? { id: n.id, attrs: { op: 'leaf', name: hoistedName(n.id), role: 'feed' }, inputs: [], shape: n.shape } : n));
  const each = pruneProgram({ nodes: replaced, outputs: program.outputs, updates: program.updates });
  return { once, each };
}
