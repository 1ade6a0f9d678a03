// `cnnc fmt FILE... [--check] [--write]`: formats .cnn files with the prettier plugin. Prints the
// formatted text by default; `--write` rewrites changed files atomically; `--check` lists the files
// that are not formatted and exits 1 if there are any. A folder stands for the .cnn files in it.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatWithPrettier } from '../compiler/format/prettier-plugin.ts';
import { parseCommand } from './command.ts';
import { FMT } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError, writeFileAtomic } from './io.ts';

function cnnFilesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? cnnFilesIn(join(dir, e.name)) : e.name.endsWith('.cnn') ? [join(dir, e.name)] : []))
    .sort();
}

export async function runFmt(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(FMT, argv);
  if (positionals.length === 0) throw new UsageError('cnnc fmt needs at least one .cnn file or folder');
  if (values.check && values.write) throw new UsageError('--check and --write exclude each other');
  const files: string[] = [];
  for (const p of positionals) {
    if (!existsSync(p)) {
      process.stderr.write(`cnnc fmt: cannot read ${p}: no such file\n`);
      return EXIT_USAGE;
    }
    files.push(...(statSync(p).isDirectory() ? cnnFilesIn(p) : [p]));
  }
  let failed = false;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    let formatted: string;
    try {
      formatted = await formatWithPrettier(text, file);
    } catch (e) {
      process.stderr.write(`cnnc fmt: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    if (values.check) {
      if (formatted !== text) {
        process.stdout.write(`${file}\n`);
        failed = true;
      }
    } else if (values.write) {
      if (formatted !== text) writeFileAtomic(file, formatted);
    } else {
      process.stdout.write(formatted);
    }
  }
  return failed ? EXIT_ERRORS : EXIT_OK;
}

// Until cli/main.ts dispatches `fmt`: `node bin/run-ts.js cli/fmt.ts FILE... [--check] [--write]`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = await runFmt(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`cnnc fmt: ${e.message}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
