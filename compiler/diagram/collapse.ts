// What a diagram shows, before layout: one node per input, per layer or per collapsed block (layers
// whose names share a prefix of `depth` dotted segments: `layer1_0.conv1` is in block `layer1_0`),
// one per loss term, and one edge per distinct connection between them.

import type { LayerNode, ModelGraph } from '../graph.ts';
import { formatShape } from '../checker/values.ts';
import { displayOp } from '../summary.ts';

export type DiagramKind = 'input' | 'weights' | 'plain' | 'frozen' | 'block' | 'shared' | 'loss';

export interface DiagramNode {
  readonly id: string;
  /** The opened block this box is drawn inside (`layer1_0` for `layer1_0.conv1`), if any. */
  readonly parent?: string;
  readonly kind: DiagramKind;
  /** Bold first line: the layer's, block's or input's name, or `loss`. */
  readonly title: string;
  /** Further lines: what it is, its output shape and parameters. */
  readonly lines: readonly string[];
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
}

/** An opened block: a frame around its boxes, inside its own parent's frame. */
export interface DiagramGroup {
  readonly id: string;
  readonly parent?: string;
}

export interface DiagramGraph {
  readonly name: string;
  /** Parents before children. */
  readonly groups: readonly DiagramGroup[];
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

export interface CollapseOptions {
  /** Dotted name segments kept: 1 shows each top-level block as one box; Infinity every layer. */
  readonly depth?: number;
}

const count = (n: number): string => n.toLocaleString('en-US');
const product = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function groupOf(name: string, depth: number): string {
  const parts = name.split('.');
  return parts.length <= depth ? name : parts.slice(0, depth).join('.');
}

function paramCount(layers: readonly LayerNode[]): number {
  return layers.reduce((s, l) => s + l.params.reduce((t, p) => t + product(p.shape), 0), 0);
}

/** The group of a layer's weight owner when every weighted layer of `layers` uses another's weights. */
function sharedWith(layers: readonly LayerNode[], depth: number): string | undefined {
  const sharing = layers.filter((l) => l.paramOwner !== l.name);
  if (sharing.length === 0 || layers.some((l) => l.paramOwner === l.name && l.params.length > 0)) return undefined;
  return groupOf(sharing[0]!.paramOwner, depth);
}

function layerNode(id: string, layers: readonly LayerNode[], depth: number): DiagramNode {
  const last = layers[layers.length - 1]!;
  const params = paramCount(layers);
  const owner = sharedWith(layers, depth);
  const weights = owner !== undefined ? `weights of ${owner}` : params > 0 ? `${count(params)} params` : '';
  const shape = `→ ${formatShape(last.shape)}`;
  const third = weights === '' ? shape : `${shape} · ${weights}`;
  if (layers.length > 1) {
    return { id, kind: owner !== undefined ? 'shared' : 'block', title: id, lines: [`block · ${layers.length} layers`, third] };
  }
  const frozen = last.frozen && params > 0;
  const kind: DiagramKind = owner !== undefined ? 'shared' : frozen ? 'frozen' : params > 0 ? 'weights' : 'plain';
  return { id, kind, title: id, lines: [displayOp(last), third] };
}

export function collapseGraph(graph: ModelGraph, options: CollapseOptions = {}): DiagramGraph {
  const depth = Math.max(1, options.depth ?? 1);
  const groups = new Map<string, LayerNode[]>();
  for (const l of graph.layers) {
    const g = groupOf(l.name, depth);
    const members = groups.get(g);
    if (members) members.push(l);
    else groups.set(g, [l]);
  }
  const nodeOf = new Map<string, string>();
  for (const i of graph.inputs) nodeOf.set(i.name, i.name);
  for (const [g, layers] of groups) for (const l of layers) nodeOf.set(l.name, g);

  const nodes: DiagramNode[] = graph.inputs.map((i) => ({
    id: i.name,
    kind: 'input',
    title: i.name,
    lines: [i.trainable ? 'input (trained)' : 'input', formatShape(i.shape)],
  }));
  // Every proper prefix of a box's name is a block that was opened; it frames its boxes.
  const opened = new Set<string>();
  const parentOf = (id: string): string | undefined => {
    const cut = id.lastIndexOf('.');
    return cut < 0 ? undefined : id.slice(0, cut);
  };
  for (const g of groups.keys()) for (let p = parentOf(g); p !== undefined && !groups.has(p); p = parentOf(p)) opened.add(p);
  const frame = (id: string): string | undefined => {
    const p = parentOf(id);
    return p !== undefined && opened.has(p) ? p : undefined;
  };
  for (const [g, layers] of groups) {
    const node = layerNode(g, layers, depth);
    const parent = frame(g);
    // Inside a frame the frame names the block, so the box keeps only its own part of the name.
    nodes.push(parent === undefined ? node : { ...node, parent, title: g.slice(parent.length + 1) });
  }
  const diagramGroups = [...opened].sort((a, b) => a.split('.').length - b.split('.').length).map((id): DiagramGroup => {
    const parent = frame(id);
    return parent === undefined ? { id } : { id, parent };
  });

  const edges: DiagramEdge[] = [];
  const seen = new Set<string>();
  const connect = (from: string, to: string): void => {
    const key = `${from}\u0000${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to });
  };
  for (const l of graph.layers) for (const i of l.inputs) connect(nodeOf.get(i) ?? i, nodeOf.get(l.name)!);

  graph.loss.forEach((term, k) => {
    const id = `loss:${k}`;
    const weight = term.weight === 1 ? '' : `${term.weight} × `;
    nodes.push({ id, kind: 'loss', title: graph.loss.length > 1 ? `loss ${k + 1}` : 'loss', lines: [`${weight}${term.fn}`] });
    for (const a of term.args) {
      const from = nodeOf.get(a);
      if (from !== undefined) connect(from, id);
    }
  });
  return { name: graph.name, groups: diagramGroups, nodes, edges };
}
