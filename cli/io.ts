// Shared pieces of the command line: argument parsing with usage errors, diagnostic printing
// relative to the working directory, and the exit-code contract (0 ok, 1 errors, 2 usage or I/O).

import { accessSync, constants, mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { writeFileAtomic as writeBytesAtomic } from '../runtime/checkpoint.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatDiagnostic, type Diagnostic } from '../grammar/diagnostics.ts';
import { UserError } from '../grammar/user-error.ts';

export const EXIT_OK = 0;
export const EXIT_ERRORS = 1;
export const EXIT_USAGE = 2;

export class UsageError extends UserError {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with its errors turned into UsageError so main prints them as usage. */
export function parseCommandLine<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--set classes=3 --set channels=1` to `{ classes: 3, channels: 1 }`. */
export function parseOverrides(values: readonly string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/.exec(v);
    if (!m) throw new UsageError(`--set expects NAME=NUMBER, got '${v}'`);
    const n = Number(m[2]);
    if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw new UsageError(`--set ${m[1]}: ${m[2]} is beyond 2^53, where numbers are no longer exact`);
    out[m[1]] = n;
  }
  return out;
}

/** Paths as the user would type them: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : file;
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], stream: NodeJS.WritableStream = process.stderr): void {
  for (const d of diagnostics) {
    stream.write(`${formatDiagnostic({ ...d, span: { ...d.span, file: displayPath(d.span.file) } })}\n`);
  }
}


/**
 * Text or bytes through runtime/checkpoint's atomic writer: never a half-written file. A missing
 * folder of an output path is created (`-o out/x.png` on a fresh checkout), once the bytes are ready.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const folder = dirname(resolve(path));
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    // mkdir says EEXIST (or ENOTDIR) about a file on the way, which reads as if `path` existed.
    const code = (e as { code?: unknown }).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new UsageError(`cannot write ${path}: a part of ${folder} is a file, not a folder`);
    throw e;
  }
  writeBytesAtomic(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
}

/** A number option: undefined gives `fallback`; anything outside [min, max] or not a number is a usage error. */
export function numberOption(value: string | undefined, flag: string, fallback: number, range: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const { min = -Infinity, max = Infinity, integer = false } = range;
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const what = integer ? 'a whole number' : 'a number';
    const bounds = Number.isFinite(min) && Number.isFinite(max) ? ` from ${min} to ${max}` : Number.isFinite(min) ? ` of at least ${min}` : '';
    throw new UsageError(`${flag} expects ${what}${bounds}, got '${value}'`);
  }
  return n;
}

/** The bytes of an input file, or a usage error naming it: missing, or a folder where a file belongs. */
export function readInputFile(path: string, what: string): Uint8Array {
  const stat = statIfAny(path);
  if (!stat) throw new UsageError(`cannot read ${what} ${path}: no such file`);
  if (stat.isDirectory()) throw new UsageError(`${what} ${path} is a folder; give the files in it`);
  return new Uint8Array(readFileSync(path));
}

/** A path's stat, or undefined where there is nothing (or a file stands where a folder would be). */
function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Checks before any work starts that `path` can be written (its folder exists or can be made,
 * and is writable), so a run is not lost to a read-only `--out` at its first save.
 */
export function checkWritable(path: string, flag: string): void {
  if (statIfAny(path)?.isDirectory()) throw new UsageError(`${flag} ${path} is a folder; give a file path`);
  let folder = dirname(resolve(path));
  while (!statIfAny(folder)) folder = dirname(folder);
  if (!statIfAny(folder)?.isDirectory()) throw new UsageError(`${flag} ${path}: ${folder} is a file, not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: cannot write in ${folder} (permission denied or read-only)`);
  }
}
