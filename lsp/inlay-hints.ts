// Inlay hints: the output shape at the end of each line that creates layers (`// 28 x 28 x 6`),
// as the course writes it beside each layer, without the author writing it. Lines in a block get
// one when every instance of the block gives the same shape there.

import type { InlayHint, Range } from 'vscode-languageserver';
import type { Shape } from '../compiler/graph.ts';
import type { Analysis } from './analysis.ts';
import type { Span } from '../grammar/span.ts';
import { stageOutputs } from './layer-map.ts';
import { bodyDecls, forEachStatement, stagesOf } from './syntax.ts';

export function shapeText(shape: Shape): string {
  return shape.join(' x ');
}

/** Column where a line's code ends (before a trailing comment and spaces). */
function codeEnd(line: string): number {
  let end = line.length;
  const comment = line.search(/\/\/|\/\*/);
  if (comment >= 0) end = comment;
  while (end > 0 && /\s/.test(line[end - 1])) end--;
  return end;
}

/** The stage that ends last on each line: its output is the line's shape, if it has one. */
function lastStages(analysis: Analysis): Map<number, Span> {
  const out = new Map<number, Span>();
  for (const decl of bodyDecls(analysis.source)) {
    forEachStatement(decl.body, (st) => {
      for (const stage of stagesOf(st)) {
        const line = stage.span.endLine - 1;
        const known = out.get(line);
        if (!known || known.endOffset < stage.span.endOffset) out.set(line, stage.span);
      }
    });
  }
  return out;
}

export function inlayHints(analysis: Analysis, range?: Range): InlayHint[] {
  const lines = analysis.text.split('\n');
  const last = lastStages(analysis);
  const lastOnLine = new Map<number, Shape>();
  for (const out of stageOutputs(analysis)) {
    const line = out.span.endLine - 1;
    if (last.get(line)?.startOffset === out.span.startOffset) lastOnLine.set(line, out.layer.shape);
  }
  const hints: InlayHint[] = [];
  for (const [line, shape] of [...lastOnLine].sort((a, b) => a[0] - b[0])) {
    if (range && (line < range.start.line || line > range.end.line)) continue;
    hints.push({ position: { line, character: codeEnd(lines[line] ?? '') }, label: `// ${shapeText(shape)}`, paddingLeft: true });
  }
  return hints;
}
