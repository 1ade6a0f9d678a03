// Quick fixes for the checker's hints: the machine fixes it attaches (a misspelled name, a missing
// `flatten`), and a 1x1 projection of a residual shortcut whose shape does not match.

import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range } from 'vscode-languageserver';
import { codeOf } from '../grammar/diagnostics.ts';
import type { Expr } from '../grammar/ast.ts';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './positions.ts';
import { bodyDecls, expressionsOf, forEachStatement } from './syntax.ts';

interface FixData {
  readonly fix: { readonly range: Range; readonly text: string; readonly title: string };
}

function isFixData(data: unknown): data is FixData {
  const fix = (data as FixData | undefined)?.fix;
  return typeof fix === 'object' && fix !== null && typeof fix.text === 'string' && typeof fix.title === 'string';
}

const sameRange = (a: Range, b: Range) =>
  a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;

/** The `a + b` or `add(a, b)` expression whose span is exactly `range`; returns its second operand. */
function addOperand(analysis: Analysis, range: Range): Expr | undefined {
  let found: Expr | undefined;
  const visit = (e: Expr): void => {
    if (found) return;
    if (e.kind === 'binary' && e.op === '+' && sameRange(spanToRange(e.span), range)) found = e.right;
    else if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'add' && sameRange(spanToRange(e.span), range) && e.args[1]) found = e.args[1].value;
    else if (e.kind === 'binary') [e.left, e.right].forEach(visit);
    else if (e.kind === 'call') e.args.forEach((a) => visit(a.value));
    else if (e.kind === 'layer') e.args.forEach((a) => visit(a.value));
  };
  for (const decl of bodyDecls(analysis.source)) forEachStatement(decl.body, (st) => expressionsOf(st).forEach(visit));
  return found;
}

function projection(analysis: Analysis, d: LspDiagnostic): CodeAction | undefined {
  const m = /`conv (\d+), 1x1(?:, stride (\d+))?`/.exec(d.message);
  if (d.code !== codeOf('shapeMismatch') || !m) return undefined;
  const operand = addOperand(analysis, d.range);
  if (!operand) return undefined;
  const text = analysis.text.slice(operand.span.startOffset, operand.span.endOffset);
  const newText = `conv(${text}, ${m[1]}, 1x1${m[2] ? `, stride ${m[2]}, round floor` : ''})`;
  return {
    title: `Project the shortcut with a 1x1 convolution: ${newText}`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    edit: { changes: { [analysis.uri]: [{ range: spanToRange(operand.span), newText }] } },
  };
}

export function codeActions(analysis: Analysis, diagnostics: readonly LspDiagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (isFixData(d.data)) {
      out.push({ title: d.data.fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [analysis.uri]: [{ range: d.data.fix.range, newText: d.data.fix.text }] } } });
    }
    const project = projection(analysis, d);
    if (project) out.push(project);
  }
  return out;
}
