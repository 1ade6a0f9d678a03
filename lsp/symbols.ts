// Document symbols (the outline): models and blocks, with their inputs and named values inside.

import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './positions.ts';
import { bodyDecls, definitionsIn } from './syntax.ts';

export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  return bodyDecls(analysis.source).map((decl) => ({
    name: decl.name.name,
    detail: decl.kind,
    kind: decl.kind === 'model' ? SymbolKind.Class : SymbolKind.Function,
    range: spanToRange(decl.span),
    selectionRange: spanToRange(decl.name.span),
    children: definitionsIn(decl)
      .filter((d) => d.kind !== 'parameter' && d.kind !== 'loop variable')
      .map((d) => ({
        name: d.name.name,
        detail: d.kind,
        kind: d.kind === 'input' ? SymbolKind.Field : SymbolKind.Variable,
        range: spanToRange(d.span.startOffset <= d.name.span.startOffset ? d.span : d.name.span),
        selectionRange: spanToRange(d.name.span),
      })),
  }));
}
