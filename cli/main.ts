// `cnnc COMMAND ...`: finds the command's description (commands.ts), answers `--help` from it,
// loads only that command's module, and turns user errors into one line and exit 1 (data) or 2.

import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setMachineMemory } from '../runtime/memory-budget.ts';
import { escapeControl } from '../grammar/terminal-text.ts';
import { UserError } from '../grammar/user-error.ts';
import { helpText, wantsHelp } from './command.ts';
import { describeFsError } from './fs-errors.ts';
import { COMMANDS } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE } from './io.ts';


/** A user error's message as printed after `cnnc NAME: `: escaped, and without naming the command twice. */
export function userMessage(name: string, message: string): string {
  const own = `cnnc ${name} `;
  const text = message.startsWith(own) ? message.slice(own.length) : message.startsWith(`cnnc ${name}: `) ? message.slice(own.length + 1) : message;
  return text.split('\n').map(escapeControl).join('\n');
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: cnnc <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n\`cnnc <command> --help\` (or \`cnnc help <command>\`) lists a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `cnnc help train` reads as `cnnc train --help`.
  const asked = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
  if (asked) {
    process.stdout.write(helpText(asked));
    return EXIT_OK;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`cnnc ${pkg.version}\n`);
    return EXIT_OK;
  }
  setMachineMemory(totalmem());
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`cnnc: unknown command '${escapeControl(name)}'\n${usage()}`);
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  try {
    return await (await command.load())(rest);
  } catch (e) {
    // Bad input (usage, files, data, weights, devices) is the user's to fix: the message, no stack.
    if (e instanceof UserError) {
      process.stderr.write(`cnnc ${name}: ${userMessage(name, e.message)}\n`);
      return e.kind === 'data' ? EXIT_ERRORS : EXIT_USAGE;
    }
    const fsProblem = describeFsError(e);
    if (fsProblem !== undefined) {
      process.stderr.write(`cnnc ${name}: ${escapeControl(fsProblem)}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
