// `cnnc lsp [--stdio] [--debounce MS] [--budget MS]`: the language server over stdin/stdout (the only transport
// an editor needs here; `--stdio` is accepted because clients pass it).

import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node.js';
import { startServer } from '../lsp/server.ts';
import { parseCommand } from './command.ts';
import { LSP } from './commands.ts';
import { UsageError } from './io.ts';

export async function runLsp(argv: string[]): Promise<number> {
  const { values } = parseCommand(LSP, argv);
  const debounceMs = values.debounce === undefined ? undefined : Number(values.debounce);
  if (debounceMs !== undefined && !(Number.isFinite(debounceMs) && debounceMs >= 0)) throw new UsageError(`--debounce expects milliseconds, got '${values.debounce}'`);
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  // Anything printed to stdout would corrupt the protocol stream.
  console.log = (...args: unknown[]) => connection.console.log(args.map(String).join(' '));
  startServer(connection, {
    ...(debounceMs === undefined ? {} : { debounceMs }),
    ...(values.budget === undefined ? {} : { checkBudgetMs: Number(values.budget) }),
  });
  // The library exits the process on the `exit` notification; an editor that vanishes closes stdin.
  return new Promise<number>((resolve) => {
    connection.onExit(() => resolve(0));
    process.stdin.once('end', () => resolve(1));
  });
}
