// Places a diagram with elkjs's layered layout (top to bottom, orthogonal edges): edges that skip
// layers (residual shortcuts, YOLO's passthrough) get their own lane beside the chain instead of
// running under its boxes. Box sizes come from their text, so long names never overflow.

import elkjs from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { DiagramGraph, DiagramNode } from './collapse.ts';

export const TITLE_SIZE = 12;
export const LINE_SIZE = 11;
export const LINE_HEIGHT = 15;
export const PAD_X = 10;
const PAD_Y = 8;
const MIN_WIDTH = 110;
/** Longer lines are shortened in the middle. */
export const MAX_CHARS = 44;

/** Width of `text` in the diagram's sans-serif: a generous per-character estimate (DejaVu Sans). */
export function textWidth(text: string, size: number, bold = false): number {
  return Math.ceil(text.length * size * (bold ? 0.66 : 0.6));
}

export function shorten(text: string): string {
  if (text.length <= MAX_CHARS) return text;
  const keep = MAX_CHARS - 1;
  return `${text.slice(0, Math.ceil(keep / 2))}…${text.slice(text.length - Math.floor(keep / 2))}`;
}

export interface PlacedNode extends DiagramNode {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  /** The route, start to end. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface PlacedDiagram {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
}

function size(node: DiagramNode): { width: number; height: number } {
  const widths = [textWidth(shorten(node.title), TITLE_SIZE, true), ...node.lines.map((l) => textWidth(shorten(l), LINE_SIZE))];
  return { width: Math.max(MIN_WIDTH, Math.max(...widths) + 2 * PAD_X), height: PAD_Y * 2 + LINE_HEIGHT * (1 + node.lines.length) };
}

const LAYOUT = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '28',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeNode': '18',
  'elk.spacing.edgeEdge': '12',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.padding': '[top=8,left=8,bottom=8,right=8]',
};

export async function layoutDiagram(diagram: DiagramGraph): Promise<PlacedDiagram> {
  // elkjs is CommonJS: its constructor is both module.exports and module.exports.default, and
  // TypeScript (NodeNext) types the default import as the module, so take `.default`.
  const elk = new elkjs.default();
  const root: ElkNode = {
    id: 'root',
    layoutOptions: LAYOUT,
    children: diagram.nodes.map((n) => ({ id: n.id, ...size(n) })),
    edges: diagram.edges.map((e, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  };
  const placed = await elk.layout(root);
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  const nodes = (placed.children ?? []).map((c): PlacedNode => ({ ...byId.get(c.id)!, x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 }));
  const edges = (placed.edges ?? []).map((e): PlacedEdge => {
    const s = e.sections?.[0];
    const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [];
    const { from, to } = diagram.edges[Number(e.id.slice(1))]!;
    return { from, to, points };
  });
  return { name: diagram.name, width: placed.width ?? 0, height: placed.height ?? 0, nodes, edges };
}
