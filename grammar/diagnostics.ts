// A diagnostic: a catalog message (catalog/: its code, severity, text and hint) at a place in a
// file, with the machine fix an editor can apply; printing, and the did-you-mean search messages use.

import { CATALOG, type DiagnosticKind, type Message, type Severity } from './catalog/index.ts';
import type { Span } from './span.ts';
import { escapeControl } from './terminal-text.ts';

export { CATALOG, RETIRED_CODES, inInstance, messages, type DiagnosticKind, type Message, type Severity } from './catalog/index.ts';

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

/** Where and what a message's machine fix replaces; its title comes from the catalog. */
export interface FixEdit {
  readonly span: Span;
  readonly text: string;
}

export function diagnostic(span: Span, m: Message, edit?: FixEdit): Diagnostic {
  const { code, severity } = CATALOG[m.kind];
  const fix = edit && m.fixTitle !== undefined ? { ...edit, title: m.fixTitle } : undefined;
  return { code, severity, message: m.text, span, ...(m.hint !== undefined ? { hint: m.hint } : {}), ...(fix ? { fix } : {}) };
}

/** The code of a kind (`CNN302`), for code that recognises a diagnostic. */
export function codeOf(kind: DiagnosticKind): string {
  return CATALOG[kind].code;
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
