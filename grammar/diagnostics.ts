// Every diagnostic cnnc reports, in one catalog with stable codes (as TypeScript's compiler keeps
// them), so tests, editors and users can key on a code rather than on wording.

import type { Span } from './span.ts';
import { escapeControl } from './terminal-text.ts';

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
  tooDeep: { code: 'CNN003', severity: 'error' },
  emptyFile: { code: 'CNN004', severity: 'error' },
  unknownName: { code: 'CNN100', severity: 'error' },
  duplicateName: { code: 'CNN101', severity: 'error' },
  useBeforeDefinition: { code: 'CNN102', severity: 'error' },
  recursiveBlock: { code: 'CNN103', severity: 'error' },
  importFailed: { code: 'CNN104', severity: 'error' },
  unknownModel: { code: 'CNN105', severity: 'error' },
  noInput: { code: 'CNN106', severity: 'error' },
  tooLarge: { code: 'CNN107', severity: 'error' },
  wrongArguments: { code: 'CNN200', severity: 'error' },
  notAnInteger: { code: 'CNN201', severity: 'error' },
  divisionByZero: { code: 'CNN202', severity: 'error' },
  wrongValueKind: { code: 'CNN203', severity: 'error' },
  numberOutOfRange: { code: 'CNN204', severity: 'error' },
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

/** `path:line:col: error: message` plus an indented hint line, as compilers print them; text from the file is escaped. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = escapeControl(`${d.span.file}:${d.span.startLine}:${d.span.startColumn}: ${d.severity}: ${d.message}`);
  return d.hint ? `${head}\n  hint: ${escapeControl(d.hint)}` : head;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Names longer than this get no suggestion: nobody mistypes 20,000 characters, and the cost is quadratic. */
const MAX_SUGGESTED_LENGTH = 64;

/** Edit distance counting an adjacent transposition as one edit (`cnov` -> `conv`), in three rows. */
function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    [before, previous, row] = [previous, row, before];
  }
  return previous[b.length];
}

/** The closest candidate within a third of the name's length, if any. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    // The distance is at least the difference in length: skip what cannot win.
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
