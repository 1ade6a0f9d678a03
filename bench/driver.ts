// A small driver for named benchmark sections: `npm run bench` runs all, `npm run bench -- lenet5`
// runs one. Each section yields JSON objects; the driver prints one per line on stdout and keeps
// progress and notes on stderr, so `npm run bench > figures.jsonl` captures only the figures.

import { acquireBenchDevice, type BenchDevice, type DawnBackend } from './device.ts';

export interface BenchOptions {
  /** Overrides the timed step count of training sections. */
  readonly steps?: number;
  /** Overrides the warm-up step count of training sections. */
  readonly warmup?: number;
  readonly backend: DawnBackend;
}

export interface SectionContext {
  readonly options: BenchOptions;
  /** The shared Dawn device, acquired on first use (front-end sections never touch it). */
  device(): Promise<BenchDevice>;
  /** A progress line on stderr. */
  log(line: string): void;
}

export interface Section {
  readonly name: string;
  readonly description: string;
  run(context: SectionContext): AsyncIterable<object>;
}

export interface ParsedArgs {
  readonly sections: readonly string[];
  readonly options: BenchOptions;
  readonly list: boolean;
}

export class UsageError extends Error {}

function count(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`${flag} needs a whole number, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return n;
}

export function parseArgs(argv: readonly string[], known: readonly Section[]): ParsedArgs {
  const sections: string[] = [];
  let steps: number | undefined;
  let warmup: number | undefined;
  let backend: DawnBackend = 'vulkan';
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--steps') steps = count(arg, argv[++i]);
    else if (arg === '--warmup') warmup = count(arg, argv[++i]);
    else if (arg === '--backend') {
      const value = argv[++i];
      if (value !== 'vulkan' && value !== 'opengles') throw new UsageError(`--backend is vulkan or opengles, got '${value ?? ''}'`);
      backend = value;
    } else if (arg === '--list') list = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}' (options: --steps N, --warmup N, --backend vulkan|opengles, --list)`);
    else if (!known.some((s) => s.name === arg)) {
      throw new UsageError(`unknown section '${arg}'; sections: ${known.map((s) => s.name).join(', ')}`);
    } else sections.push(arg);
  }
  if (steps === 0) throw new UsageError('--steps must be at least 1');
  return {
    sections: sections.length > 0 ? sections : known.map((s) => s.name),
    options: { backend, ...(steps === undefined ? {} : { steps }), ...(warmup === undefined ? {} : { warmup }) },
    list,
  };
}

export interface DriverIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: DriverIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the chosen sections in order; a failing section is reported and the rest still run. Returns the exit code. */
export async function runSections(argv: readonly string[], known: readonly Section[], io: DriverIo = processIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, known);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`bench: ${error.message}`);
    return 2;
  }
  if (args.list) {
    for (const s of known) io.out(JSON.stringify({ section: s.name, description: s.description }));
    return 0;
  }
  let device: Promise<BenchDevice> | undefined;
  const context: SectionContext = {
    options: args.options,
    device: () => (device ??= acquireBenchDevice(args.options.backend)),
    log: (line) => io.err(`bench: ${line}`),
  };
  let failed = false;
  for (const name of args.sections) {
    const section = known.find((s) => s.name === name);
    if (section === undefined) continue;
    const start = performance.now();
    context.log(`${name}: start`);
    try {
      for await (const line of section.run(context)) io.out(JSON.stringify(line));
      context.log(`${name}: done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    } catch (error) {
      failed = true;
      context.log(`${name}: failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}
