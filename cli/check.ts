// `cnnc check FILE...`: every diagnostic of each file and of each model in it, on stdout.

import { existsSync } from 'node:fs';
import { hasErrors } from '../compiler/diagnostics.ts';
import { checkFile } from '../compiler/program.ts';
import { parseCommand } from './command.ts';
import { CHECK } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, printDiagnostics, UsageError } from './io.ts';

export async function runCheck(argv: string[]): Promise<number> {
  const { positionals } = parseCommand(CHECK, argv);
  if (positionals.length === 0) throw new UsageError('cnnc check needs at least one .cnn file');
  let errors = false;
  for (const file of positionals) {
    if (!existsSync(file)) {
      process.stderr.write(`cnnc check: cannot read ${file}: no such file\n`);
      return EXIT_USAGE;
    }
    const { diagnostics } = checkFile(file);
    printDiagnostics(diagnostics, process.stdout);
    errors ||= hasErrors(diagnostics);
  }
  return errors ? EXIT_ERRORS : EXIT_OK;
}
