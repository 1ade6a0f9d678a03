// `cnnc graph` and the playground's picture of a network: collapse the layer graph to the boxes
// asked for (collapse.ts), place them with elkjs (layout.ts), draw SVG (svg.ts). Browser-safe.

import type { ModelGraph } from './graph.ts';
import { collapseGraph, type CollapseOptions } from './diagram/collapse.ts';
import { layoutDiagram } from './diagram/layout.ts';
import { diagramSvg } from './diagram/svg.ts';

export type DiagramOptions = CollapseOptions;

export async function renderDiagram(graph: ModelGraph, options: DiagramOptions = {}): Promise<string> {
  return diagramSvg(await layoutDiagram(collapseGraph(graph, options)));
}
