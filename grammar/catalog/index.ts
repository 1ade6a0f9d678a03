// Every diagnostic cnnc reports, in one catalog keyed by kind (as TypeScript's compiler keeps
// them): each code's number, severity, meaning and example (docs/errors.md is generated from
// these), and every message reported under it as a typed function with its hint. The parser and
// the checker report only through `messages`, so no message exists without a code, and this
// folder is the one place to read and reword them. test/language/diagnostic-catalog.test.ts fails
// on a message nothing reports.

import type { MessageSpec } from './entry.ts';
import { NAMES } from './names.ts';
import { SHAPES } from './shapes.ts';
import { SYNTAX } from './syntax.ts';
import { VALUES } from './values.ts';

export type { CodeExample, Severity } from './entry.ts';
export { formatShape } from './entry.ts';

export const CATALOG = { ...SYNTAX, ...NAMES, ...VALUES, ...SHAPES };

export type DiagnosticKind = keyof typeof CATALOG;

/** Codes once reserved and never reported: their numbers are not given to anything else. */
export const RETIRED_CODES: Readonly<Record<string, string>> = {
  CNN306: 'a model trained without a loss: the command that trains it (`cnnc train`, `cnnc build`) refuses it',
  CNN307: 'a named value nothing reads: not reported',
};

/** A reported message: its kind (hence code and severity), text and hint, before it has a place. */
export interface Message {
  readonly kind: DiagnosticKind;
  readonly text: string;
  readonly hint?: string;
  readonly fixTitle?: string;
}

type Reporters<M> = { readonly [N in keyof M]: M[N] extends MessageSpec<infer P> ? (p: P) => Message : never };

/** `messages.unknownName.value({ name, guess })`: the message, made from the catalog's wording. */
export const messages = Object.fromEntries(
  Object.entries(CATALOG).map(([kind, entry]) => [
    kind,
    Object.fromEntries(
      Object.entries(entry.messages as Readonly<Record<string, MessageSpec<never>>>).map(([name, spec]) => [
        name,
        // Each reporter is typed by its own spec below; here the parameters only pass through.
        (p: never): Message => {
          const hint = spec.hint?.(p);
          const fixTitle = spec.fixTitle?.(p);
          return { kind: kind as DiagnosticKind, text: spec.text(p), ...(hint !== undefined ? { hint } : {}), ...(fixTitle !== undefined ? { fixTitle } : {}) };
        },
      ]),
    ),
  ]),
) as unknown as { readonly [K in DiagnosticKind]: Reporters<(typeof CATALOG)[K]['messages']> };

/** A warning from a line inside a block holds for one application of it: this says which (`encoder`). */
export function inInstance(m: Message, instance: string): Message {
  return { ...m, text: `${m.text} (in ${instance})` };
}
