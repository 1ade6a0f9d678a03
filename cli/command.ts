// One description per command: its arguments, a one-line summary and every option with its help.
// `--help`, the usage list of `cnnc --help` and the option parser are all generated from it, so a
// flag cannot be accepted without being documented (or documented without being accepted).

import { parseArgs } from 'node:util';
import { didYouMean } from '../grammar/diagnostics.ts';
import { UsageError } from './io.ts';

/**
 * What a string option's value must be. Checked when argv is parsed, so `--batch 0` or
 * `--limit abc` is a usage error before any work starts (the command still reads the string).
 */
export type OptionValue = 'positive-integer' | 'natural' | 'positive-number' | 'non-negative-number' | 'fraction';

const VALUE_RULES: Readonly<Record<OptionValue, { readonly ok: (n: number) => boolean; readonly says: string }>> = {
  'positive-integer': { ok: (n) => Number.isSafeInteger(n) && n >= 1, says: 'a whole number of at least 1' },
  natural: { ok: (n) => Number.isSafeInteger(n) && n >= 0, says: 'a whole number of at least 0' },
  'positive-number': { ok: (n) => Number.isFinite(n) && n > 0, says: 'a number greater than 0' },
  'non-negative-number': { ok: (n) => Number.isFinite(n) && n >= 0, says: 'a number of at least 0' },
  fraction: { ok: (n) => Number.isFinite(n) && n >= 0 && n < 1, says: 'a number from 0 up to (not including) 1' },
};

/** Why `raw` is not a valid value of kind `kind`, or undefined when it is. */
export function optionValueProblem(flag: string, kind: OptionValue, raw: string): string | undefined {
  // Number('') is 0 and Number(' 1 ') is 1: only plain decimal numbers count.
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim()) ? Number(raw) : Number.NaN;
  return VALUE_RULES[kind].ok(n) ? undefined : `--${flag} expects ${VALUE_RULES[kind].says}, got '${raw}'`;
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** For string options that hold a number: which numbers are accepted. */
  readonly value?: OptionValue;
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder shown in help for a string option, e.g. `N`, `FILE`, `k=v`. */
  readonly arg?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type CommandRun = (argv: string[]) => Promise<number>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** Positional arguments as written in usage, e.g. `FILE...` or `FILE --data SPEC`. */
  readonly args: string;
  readonly summary: string;
  readonly options: O;
  /** Extra paragraphs printed after the options (data specs, examples). */
  readonly notes?: string;
  /** Loads the command's module only when it runs, so `cnnc check` never loads the training stack. */
  readonly load: () => Promise<CommandRun>;
}

/** Declares a command; the identity function, there to infer the option types. */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'string' ? `${flag} ${o.arg ?? 'VALUE'}` : flag;
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => [optionLabel(name, o), `${o.help}${o.multiple ? ' (repeatable)' : ''}`] as const);
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`);
  return `usage: cnnc ${spec.name} ${spec.args}\n\n${spec.summary}\n\noptions:\n${lines.join('\n')}\n${spec.notes ? `\n${spec.notes.trimEnd()}\n` : ''}`;
}

/** True when argv asks for help (before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * node:util's parse error as one line in the project's words. An unknown flag gets the command's
 * nearest option instead of node's advice about positionals that start with '-'.
 */
function parseProblem(spec: CommandSpec, e: Error & { code?: string }): string {
  const flag = /^Option '(?:-\w, )?(--[\w-]+)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    if (e.message.endsWith('argument missing')) return `${flag} needs a value`;
    if (e.message.endsWith('does not take an argument')) return `${flag} takes no value`;
  }
  const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '(-{1,2})([^'=]*)/.exec(e.message) : null;
  if (!unknown) return e.message.replace(/\s*\n\s*/g, ' ');
  const [, dashes = '--', given = ''] = unknown;
  const names = Object.keys(spec.options);
  const guess =
    dashes === '-'
      ? Object.entries(spec.options).find(([, o]) => o.short?.toLowerCase() === given.toLowerCase())?.[0]
      : (names.find((n) => given.length >= 2 && (n.startsWith(given) || given.startsWith(n))) ?? didYouMean(given, names));
  return `unknown option '${dashes}${given}'${guess === undefined ? '' : ` (did you mean --${guess}?)`}`;
}

type ParseConfigOf<O extends OptionSpecs> = { [K in keyof O]: { type: O[K]['type']; short?: string; multiple: O[K]['multiple'] extends true ? true : false } };

/** Parses argv against the command's own option table; bad flags become usage errors naming the command. */
export function parseCommand<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}) }]),
  ) as ParseConfigOf<O>;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${parseProblem(spec, e as Error & { code?: string })}; see cnnc ${spec.name} --help`);
  }
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  for (const [name, o] of Object.entries(spec.options)) {
    const given = values[name];
    if (o.value === undefined || given === undefined) continue;
    for (const raw of Array.isArray(given) ? given : [given]) {
      const problem = typeof raw === 'string' ? optionValueProblem(name, o.value, raw) : undefined;
      if (problem) throw new UsageError(problem);
    }
  }
  return parsed;
}

/** The one FILE a command takes; anything else is a usage error that says what it got. */
export function expectOneFile(spec: CommandSpec, positionals: readonly string[]): void {
  if (positionals.length === 1) return;
  const got = positionals.length > 1 ? ` (${positionals.map((p) => `'${p}'`).join(', ')})` : '';
  throw new UsageError(`expected one FILE, got ${positionals.length}${got}; see cnnc ${spec.name} --help`);
}
