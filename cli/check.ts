// `cnnc check FILE...`: every diagnostic of each file and of each model in it, on stdout.

import { statSync } from 'node:fs';
import { hasErrors } from '../grammar/diagnostics.ts';
import { checkFile, unreadableReason } from '../compiler/program.ts';
import { escapeControl } from '../grammar/terminal-text.ts';
import { parseCommand } from './command.ts';
import { CHECK } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, printDiagnostics, UsageError } from './io.ts';

export async function runCheck(argv: string[]): Promise<number> {
  const { positionals } = parseCommand(CHECK, argv);
  if (positionals.length === 0) throw new UsageError('cnnc check needs at least one .cnn file');
  let errors = false;
  let unreadable = false;
  // Every file is checked: one that cannot be read is reported and the rest still are.
  for (const file of positionals) {
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
      process.stderr.write(`cnnc check: cannot read ${escapeControl(unreadableReason(file))}\n`);
      unreadable = true;
      continue;
    }
    const { diagnostics } = checkFile(file);
    printDiagnostics(diagnostics, process.stdout);
    errors ||= hasErrors(diagnostics);
  }
  return unreadable ? EXIT_USAGE : errors ? EXIT_ERRORS : EXIT_OK;
}
