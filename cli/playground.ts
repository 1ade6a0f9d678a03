// `cnnc playground [--port N] [--out DIR]`: serves the playground page (or writes it as static
// files). The installed package carries it prebuilt (dist/playground/); a source checkout builds
// it from playground/ first.

import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './command.ts';
import { PLAYGROUND } from './commands.ts';
import { EXIT_OK, UsageError } from './io.ts';
import { serveStatic } from './static-server.ts';

/** The built site: prebuilt beside the code when installed, else built from the sources. */
async function site(): Promise<string> {
  const prebuilt = fileURLToPath(new URL('../playground/', import.meta.url));
  if (existsSync(join(prebuilt, 'main.js'))) return prebuilt;
  const out = mkdtempSync(join(tmpdir(), 'cnnc-playground-'));
  const { buildPlayground } = await import('../playground/build.ts');
  await buildPlayground(out);
  return out;
}

export async function runPlayground(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(PLAYGROUND, argv);
  if (positionals.length > 0) throw new UsageError(`cnnc playground takes no files (got ${positionals.join(' ')}); pick a model in the page`);
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port needs a port number, got '${values.port}'`);
  const dir = await site();
  if (values.out !== undefined) {
    cpSync(dir, values.out, { recursive: true });
    process.stdout.write(`wrote the playground to ${values.out} (serve the folder over http and open index.html)\n`);
    return EXIT_OK;
  }
  const { url, server } = await serveStatic(dir, port);
  process.stdout.write(`playground: ${url} (Ctrl-C stops it)\n`);
  await new Promise<void>((done) => process.once('SIGINT', () => server.close(() => done())));
  return EXIT_OK;
}
