// `cnnc graph`: the network as an SVG diagram. Layers are placed in rows by their depth (longest
// path from an input), branches side by side, so inception modules and residual shortcuts read as
// they are drawn in the papers. Each box shows the name, op and output shape.

import type { ModelGraph } from './graph.ts';
import { displayOp } from './summary.ts';
import { formatShape } from './checker/values.ts';

const BOX_W = 190;
const BOX_H = 44;
const GAP_X = 24;
const GAP_Y = 26;
const MARGIN = 20;

interface Box {
  readonly name: string;
  readonly title: string;
  readonly detail: string;
  readonly inputs: readonly string[];
  readonly kind: 'input' | 'param' | 'plain';
  depth: number;
  column: number;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function renderDiagram(graph: ModelGraph): string {
  const boxes = new Map<string, Box>();
  for (const i of graph.inputs) boxes.set(i.name, { name: i.name, title: i.name, detail: `input ${formatShape(i.shape)}`, inputs: [], kind: 'input', depth: 0, column: 0 });
  for (const l of graph.layers) {
    const depth = Math.max(0, ...l.inputs.map((i) => (boxes.get(i)?.depth ?? -1) + 1));
    boxes.set(l.name, { name: l.name, title: l.name, detail: `${displayOp(l)} → ${formatShape(l.shape)}`, inputs: l.inputs, kind: l.params.length > 0 ? 'param' : 'plain', depth, column: 0 });
  }
  const rows = new Map<number, Box[]>();
  for (const b of boxes.values()) {
    const row = rows.get(b.depth) ?? [];
    b.column = row.length;
    row.push(b);
    rows.set(b.depth, row);
  }
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X;
  const height = MARGIN * 2 + rows.size * BOX_H + (rows.size - 1) * GAP_Y + 30;
  const position = (b: Box) => {
    const rowWidth = rows.get(b.depth)!.length * (BOX_W + GAP_X) - GAP_X;
    return { x: (width - rowWidth) / 2 + b.column * (BOX_W + GAP_X), y: MARGIN + 30 + b.depth * (BOX_H + GAP_Y) };
  };
  const fill = { input: '#e8f1fb', param: '#fdf3e1', plain: '#f4f4f4' };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
    `<text x="${MARGIN}" y="${MARGIN + 8}" font-size="16" font-weight="bold">${escapeXml(graph.name)}</text>`,
  ];
  for (const b of boxes.values()) {
    const to = position(b);
    for (const input of b.inputs) {
      const src = boxes.get(input);
      if (!src) continue;
      const from = position(src);
      parts.push(`<line x1="${from.x + BOX_W / 2}" y1="${from.y + BOX_H}" x2="${to.x + BOX_W / 2}" y2="${to.y}" stroke="#666" marker-end="url(#arrow)"/>`);
    }
  }
  for (const b of boxes.values()) {
    const { x, y } = position(b);
    parts.push(
      `<g><title>${escapeXml(b.name)}</title><rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${fill[b.kind]}" stroke="#888"/>`,
      `<text x="${x + 8}" y="${y + 18}" font-size="12" font-weight="bold">${escapeXml(b.title.length > 28 ? `…${b.title.slice(-27)}` : b.title)}</text>`,
      `<text x="${x + 8}" y="${y + 35}" font-size="11" fill="#333">${escapeXml(b.detail)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
