// The checker, in the page: the editor's text through the same front end as `cnnc check`, with
// imports served from the page's copy of the standard library.

import type { Diagnostic } from '../compiler/diagnostics.ts';
import type { LayerNode, ModelGraph } from '../compiler/graph.ts';
import { checkFile } from '../compiler/program.ts';
import { formatShape } from '../compiler/checker/values.ts';
import { displayOp } from '../compiler/summary.ts';
import { EDITOR_FILE } from './files.ts';

export interface Checked {
  readonly diagnostics: readonly Diagnostic[];
  readonly graphs: readonly ModelGraph[];
}

export function checkText(text: string): Checked {
  const { diagnostics, graphs } = checkFile(EDITOR_FILE, text);
  return { diagnostics: diagnostics.filter((d) => d.span.file === EDITOR_FILE), graphs };
}

const inEditor = (l: LayerNode): boolean => l.span.file === EDITOR_FILE;

/** Per source line (1-based), the output shape of the last top-level layer written on it. */
export function shapesByLine(graph: ModelGraph): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of graph.layers) if (inEditor(l) && !l.name.includes('.')) out.set(l.span.endLine, formatShape(l.shape));
  return out;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** What hovering at `offset` shows: each layer whose span covers it. */
export function hoverText(graph: ModelGraph, offset: number): string | undefined {
  const hits = graph.layers.filter((l) => inEditor(l) && l.span.startOffset <= offset && offset <= l.span.endOffset);
  if (hits.length === 0) return undefined;
  return hits
    .slice(0, 4)
    .map((l) => {
      const params = l.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      const owner = l.paramOwner !== l.name ? ` (weights of ${l.paramOwner})` : '';
      return `${l.name}: ${displayOp(l)} ${l.inputShapes.map(formatShape).join(', ')} → ${formatShape(l.shape)}${params > 0 ? `, ${count(params)} params` : ''}${owner}`;
    })
    .join('\n');
}
