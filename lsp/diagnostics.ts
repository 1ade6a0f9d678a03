// The checker's diagnostics of one document as LSP diagnostics: those whose span lies in it, plus
// problems of imported files reported on the import line that brought them in.

import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../grammar/diagnostics.ts';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './positions.ts';

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    range: spanToRange(d.span),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: 'cnnc',
    message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
    ...(d.fix ? { data: { fix: { range: spanToRange(d.fix.span), text: d.fix.text, title: d.fix.title } } } : {}),
  };
}

export function documentDiagnostics(analysis: Analysis): LspDiagnostic[] {
  const own = analysis.diagnostics.filter((d) => d.span.file === analysis.path);
  const elsewhere = analysis.diagnostics.filter((d) => d.span.file !== analysis.path);
  const out = own.map(toLspDiagnostic);
  const imports = analysis.source.declarations.filter((d) => d.kind === 'import');
  if (elsewhere.length > 0 && imports.length > 0) {
    const errors = elsewhere.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      out.push({
        range: spanToRange(imports[0].span),
        severity: DiagnosticSeverity.Error,
        // The first error's code, so the pointer on the import line is keyed as the error it points to.
        code: errors[0].code,
        source: 'cnnc',
        message: `${errors.length} error(s) in imported files, first: ${errors[0].span.file}:${errors[0].span.startLine}: ${errors[0].message}`,
      });
    }
  }
  return out;
}
