// Draws a placed diagram as SVG: a title, a legend of the box kinds, orthogonal edges with arrows,
// then the boxes on top. Boxes and edges carry data attributes (`data-node`, `data-from`,
// `data-to`) so tests and the playground can find them.

import { LINE_HEIGHT, LINE_SIZE, PAD_X, shorten, textWidth, TITLE_SIZE, type PlacedDiagram, type PlacedNode } from './layout.ts';
import type { DiagramKind } from './collapse.ts';

const MARGIN = 16;
const HEADER = 30;
const LEGEND_ROW = 22;
const FONT = 'DejaVu Sans, Verdana, sans-serif';

interface Style {
  readonly fill: string;
  readonly stroke: string;
  readonly dash?: string;
  readonly label: string;
}

const STYLES: Readonly<Record<DiagramKind, Style>> = {
  input: { fill: '#e3eefb', stroke: '#5b84b1', label: 'input' },
  weights: { fill: '#fdf0d8', stroke: '#c08a2d', label: 'layer with weights' },
  plain: { fill: '#f3f3f3', stroke: '#999999', label: 'layer without weights' },
  frozen: { fill: '#e6e6f4', stroke: '#6b6bb0', label: 'frozen' },
  block: { fill: '#e4f3e4', stroke: '#4c9a4c', label: 'block (collapsed)' },
  shared: { fill: '#fbe4ef', stroke: '#b0467a', dash: '5 3', label: "another box's weights" },
  loss: { fill: '#fde2e0', stroke: '#c0453b', label: 'loss term' },
};

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function rect(x: number, y: number, w: number, h: number, style: Style, extra = ''): string {
  const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="5" fill="${style.fill}" stroke="${style.stroke}" stroke-width="1.2"${dash}${extra}/>`;
}

/** Legend entries laid out left to right, wrapping at `width`; returns the SVG and its height. */
const FRAME: Style = { fill: '#f6faf6', stroke: '#7fb77f', dash: '4 3', label: 'opened block' };

function legend(styles: readonly Style[], top: number, width: number): { svg: string[]; height: number } {
  const svg: string[] = [];
  let x = MARGIN;
  let y = top;
  for (const s of styles) {
    const w = 22 + textWidth(s.label, LINE_SIZE) + 18;
    if (x + w > width - MARGIN && x > MARGIN) {
      x = MARGIN;
      y += LEGEND_ROW;
    }
    svg.push(`<g class="legend">${rect(x, y, 16, 12, s)}<text x="${x + 22}" y="${y + 10}" font-size="${LINE_SIZE}">${escapeXml(s.label)}</text></g>`);
    x += w;
  }
  return { svg, height: y - top + LEGEND_ROW };
}

function box(n: PlacedNode, dx: number, dy: number): string {
  const x = n.x + dx;
  const y = n.y + dy;
  const s = STYLES[n.kind];
  const text = [
    `<text x="${x + PAD_X}" y="${y + 8 + 12}" font-size="${TITLE_SIZE}" font-weight="bold">${escapeXml(shorten(n.title))}</text>`,
    ...n.lines.map((l, i) => `<text x="${x + PAD_X}" y="${y + 8 + 12 + LINE_HEIGHT * (i + 1)}" font-size="${LINE_SIZE}" fill="#333">${escapeXml(shorten(l))}</text>`),
  ];
  const parent = n.parent === undefined ? '' : ` data-parent="${escapeXml(n.parent)}"`;
  return `<g class="node" data-node="${escapeXml(n.id)}"${parent}><title>${escapeXml(n.id)}</title>${rect(x, y, n.width, n.height, s)}${text.join('')}</g>`;
}

export function diagramSvg(d: PlacedDiagram): string {
  const kinds = (Object.keys(STYLES) as DiagramKind[]).filter((k) => d.nodes.some((n) => n.kind === k));
  const styles = [...kinds.map((k) => STYLES[k]), ...(d.groups.length > 0 ? [FRAME] : [])];
  const width = Math.max(Math.ceil(d.width) + 2 * MARGIN, 460);
  const top = MARGIN + HEADER;
  const { svg: legendSvg, height: legendHeight } = legend(styles, top, width);
  const dy = top + legendHeight + 8;
  const dx = MARGIN + Math.max(0, (width - 2 * MARGIN - d.width) / 2);
  const height = Math.ceil(dy + d.height + MARGIN);
  const edges = d.edges
    .filter((e) => e.points.length >= 2)
    .map((e) => {
      const path = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${(p.x + dx).toFixed(1)},${(p.y + dy).toFixed(1)}`).join(' ');
      return `<path class="edge" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}" d="${path}" fill="none" stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>`;
    });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 14}" font-size="16" font-weight="bold">${escapeXml(d.name)}</text>`,
    ...legendSvg,
    ...d.groups.map(
      (g) =>
        `<g class="group" data-group="${escapeXml(g.id)}">${rect(g.x + dx, g.y + dy, g.width, g.height, FRAME)}<text x="${g.x + dx + 8}" y="${g.y + dy + 15}" font-size="${LINE_SIZE}" font-weight="bold" fill="#3d7a3d">${escapeXml(shorten(g.id))}</text></g>`,
    ),
    ...edges,
    ...d.nodes.map((n) => box(n, dx, dy)),
    '</svg>',
    '',
  ].join('\n');
}
