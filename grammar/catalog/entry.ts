// What one entry of the diagnostic catalog holds: a code's number, severity, meaning and example,
// and every message reported under it as a typed function of named parameters, with its hint.

export type Severity = 'error' | 'warning';

/** A message's wording: its text, an optional hint, and the title of the machine fix it may carry. */
export interface MessageSpec<P> {
  readonly text: (p: P) => string;
  readonly hint?: (p: P) => string | undefined;
  /** The editor's title for the fix the reporter attaches (`Change to 'conv'`). */
  readonly fixTitle?: (p: P) => string;
}

/** A message of the catalog; `P` (its parameters) is inferred from `text`, `void` when it has none. */
export function message(text: () => string, hint?: () => string | undefined, fixTitle?: () => string): MessageSpec<void>;
export function message<P>(text: (p: P) => string, hint?: (p: P) => string | undefined, fixTitle?: (p: P) => string): MessageSpec<P>;
export function message<P>(text: (p: P) => string, hint?: (p: P) => string | undefined, fixTitle?: (p: P) => string): MessageSpec<P> {
  return { text, ...(hint ? { hint } : {}), ...(fixTitle ? { fixTitle } : {}) };
}

/** A small file that produces the code, for docs/errors.md and the test that keeps it current. */
export interface CodeExample {
  /** A .cnn file that produces the code. */
  readonly source: string;
  /** The model to compile (`--model`), when the example is about choosing one. */
  readonly model?: string;
  /** Other files the example imports, by name. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface CodeEntry {
  readonly code: string;
  readonly severity: Severity;
  /** What the code means, in a sentence (the table in docs/errors.md). */
  readonly title: string;
  readonly example: CodeExample;
  readonly messages: Readonly<Record<string, MessageSpec<never>>>;
}

/** A model file around `body` for examples. */
export const exampleModel = (body: string): string => `model M {\n  input x: 28 x 28 x 1\n${body}\n}\n`;

/** `did you mean 'conv'?` when a guess was found. */
export const didYouMeanHint = (p: { readonly guess?: string }): string | undefined => (p.guess !== undefined ? `did you mean '${p.guess}'?` : undefined);

/** A shape in the course's notation without the batch: `28x28x6`, or `a scalar`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar' : shape.join('x');
}

/** A tensor as messages name it: `28x28x6 from maxpool_2`. */
export interface TensorRef {
  readonly name: string;
  readonly shape: readonly number[];
}

export const describeTensor = (t: TensorRef): string => `${formatShape(t.shape)} from ${t.name}`;
