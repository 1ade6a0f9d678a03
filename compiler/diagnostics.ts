// Every diagnostic cnnc reports, in one catalog with stable codes (as TypeScript's compiler keeps
// them), so tests, editors and users can key on a code rather than on wording.

import type { Span } from './span.ts';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  /** Suggested fix, printed as `  hint: ...`. */
  readonly hint?: string;
  /** A machine-applicable fix for editors: replace `span` with `text`. */
  readonly fix?: { readonly span: Span; readonly text: string; readonly title: string };
}

export const Codes = {
  lexError: { code: 'CNN001', severity: 'error' },
  syntaxError: { code: 'CNN002', severity: 'error' },
  unknownName: { code: 'CNN100', severity: 'error' },
  duplicateName: { code: 'CNN101', severity: 'error' },
  useBeforeDefinition: { code: 'CNN102', severity: 'error' },
  recursiveBlock: { code: 'CNN103', severity: 'error' },
  importFailed: { code: 'CNN104', severity: 'error' },
  unknownModel: { code: 'CNN105', severity: 'error' },
  noInput: { code: 'CNN106', severity: 'error' },
  wrongArguments: { code: 'CNN200', severity: 'error' },
  notAnInteger: { code: 'CNN201', severity: 'error' },
  divisionByZero: { code: 'CNN202', severity: 'error' },
  wrongValueKind: { code: 'CNN203', severity: 'error' },
  nonPositiveSize: { code: 'CNN300', severity: 'error' },
  fractionalSize: { code: 'CNN301', severity: 'warning' },
  shapeMismatch: { code: 'CNN302', severity: 'error' },
  wrongRank: { code: 'CNN303', severity: 'error' },
  denseNeedsVector: { code: 'CNN304', severity: 'error' },
  lossShape: { code: 'CNN305', severity: 'error' },
  noLoss: { code: 'CNN306', severity: 'warning' },
  unusedValue: { code: 'CNN307', severity: 'warning' },
} as const;

export type DiagnosticKind = keyof typeof Codes;

export function diagnostic(kind: DiagnosticKind, span: Span, message: string, hint?: string, fix?: Diagnostic['fix']): Diagnostic {
  const { code, severity } = Codes[kind];
  return { code, severity, message, span, ...(hint ? { hint } : {}), ...(fix ? { fix } : {}) };
}

/** `path:line:col: error: message` plus an indented hint line, as compilers print them. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.span.file}:${d.span.startLine}:${d.span.startColumn}: ${d.severity}: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Edit distance counting an adjacent transposition as one edit (`cnov` -> `conv`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a third of the name's length, if any. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
