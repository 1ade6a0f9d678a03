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

/** An opened block's frame, in the diagram's coordinates. */
export interface PlacedGroup {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedDiagram {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly groups: readonly PlacedGroup[];
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
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.padding': '[top=8,left=8,bottom=8,right=8]',
  // Edges between boxes in different frames are laid out with the frames, not after them.
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
};

/** Room for a frame's name above its boxes. */
export const GROUP_LABEL = 18;
const GROUP_LAYOUT = { 'elk.padding': `[top=${GROUP_LABEL + 8},left=10,bottom=10,right=10]` };
const GROUP_PREFIX = 'group:';

export async function layoutDiagram(diagram: DiagramGraph): Promise<PlacedDiagram> {
  // elkjs is CommonJS: its constructor is both module.exports and module.exports.default, and
  // TypeScript (NodeNext) types the default import as the module, so take `.default`.
  const elk = new elkjs.default();
  const root: ElkNode = { id: 'root', layoutOptions: LAYOUT, children: [] };
  const containers = new Map<string | undefined, ElkNode>([[undefined, root]]);
  for (const g of diagram.groups) {
    const frame: ElkNode = { id: GROUP_PREFIX + g.id, layoutOptions: GROUP_LAYOUT, children: [] };
    containers.get(g.parent)!.children!.push(frame);
    containers.set(g.id, frame);
  }
  for (const n of diagram.nodes) containers.get(n.parent)!.children!.push({ id: n.id, ...size(n) });
  root.edges = diagram.edges.map((e, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [e.from], targets: [e.to] }));
  const placed = await elk.layout(root);

  // ELK places children relative to their parent and edges relative to their container.
  const origin = new Map<string, { x: number; y: number }>([['root', { x: 0, y: 0 }]]);
  const nodes: PlacedNode[] = [];
  const groups: PlacedGroup[] = [];
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  const visit = (parent: ElkNode, at: { x: number; y: number }): void => {
    for (const c of parent.children ?? []) {
      const x = at.x + (c.x ?? 0);
      const y = at.y + (c.y ?? 0);
      origin.set(c.id, { x, y });
      const box = { x, y, width: c.width ?? 0, height: c.height ?? 0 };
      if (c.id.startsWith(GROUP_PREFIX)) {
        groups.push({ id: c.id.slice(GROUP_PREFIX.length), ...box });
        visit(c, { x, y });
      } else nodes.push({ ...byId.get(c.id)!, ...box });
    }
  };
  visit(placed, { x: 0, y: 0 });
  const edges = (placed.edges ?? []).map((e): PlacedEdge => {
    const s = e.sections?.[0];
    const at = origin.get(e.container ?? 'root') ?? { x: 0, y: 0 };
    const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => ({ x: p.x + at.x, y: p.y + at.y })) : [];
    const { from, to } = diagram.edges[Number(e.id.slice(1))]!;
    return { from, to, points };
  });
  return { name: diagram.name, width: placed.width ?? 0, height: placed.height ?? 0, groups, nodes, edges };
}
