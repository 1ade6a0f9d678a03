// `cnnc playground [--port N] [--out DIR]`: serves the playground page (or writes it as static
// files). The installed package carries it prebuilt (dist/playground/); a source checkout builds
// it from playground/ first.

import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FASHION_FILES } from '../playground/fashion.ts';
import { parseCommand } from './command.ts';
import { PLAYGROUND } from './commands.ts';
import { EXIT_OK, UsageError } from './io.ts';
import { serveStatic } from './static-server.ts';

/** The package's data/ (dist/data when installed), which the prebuilt page reads as its data/. */
const DATA = fileURLToPath(new URL('../data/', import.meta.url));

/**
 * The built site: prebuilt beside the code when installed (without data/: `data` says where it
 * is), else built from the sources into a temporary folder.
 */
async function site(): Promise<{ dir: string; data?: string; remove: () => void }> {
  const prebuilt = fileURLToPath(new URL('../playground/', import.meta.url));
  if (existsSync(join(prebuilt, 'main.js'))) return { dir: prebuilt, data: existsSync(join(prebuilt, 'data')) ? undefined : DATA, remove: () => undefined };
  const out = mkdtempSync(join(tmpdir(), 'cnnc-playground-'));
  const remove = () => rmSync(out, { recursive: true, force: true });
  try {
    const { buildPlayground } = await import('../playground/build.ts');
    await buildPlayground(out);
  } catch (e) {
    remove();
    throw e;
  }
  return { dir: out, remove };
}

/** Listening refused: the port is taken or reserved. */
function listenProblem(e: unknown, port: number): UsageError | undefined {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  const retry = 'pick another with --port N (0 picks a free one)';
  if (code === 'EADDRINUSE') return new UsageError(`port ${port} on 127.0.0.1 is in use; ${retry}`);
  if (code === 'EACCES') return new UsageError(`port ${port} needs privileges to listen on; ${retry}`);
  return undefined;
}

export async function runPlayground(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(PLAYGROUND, argv);
  if (positionals.length > 0) throw new UsageError(`cnnc playground takes no files (got ${positionals.join(' ')}); pick a model in the page`);
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port needs a port number, got '${values.port}'`);
  const built = await site();
  try {
    if (values.out !== undefined) {
      cpSync(built.dir, values.out, { recursive: true });
      if (built.data !== undefined) for (const f of FASHION_FILES) cpSync(join(built.data, f), join(values.out, 'data', f));
      process.stdout.write(`wrote the playground to ${values.out} (serve the folder over http and open index.html)\n`);
      return EXIT_OK;
    }
    const { url, server } = await serveStatic(built.dir, port, {}, { crossOriginIsolated: true, ...(built.data === undefined ? {} : { mounts: { '/data/': built.data } }) }).catch((e: unknown) => {
      throw listenProblem(e, port) ?? e;
    });
    process.stdout.write(`playground: ${url} (Ctrl-C stops it)\n`);
    // Ctrl-C or a kill: stop serving and remove the temporary site.
    await new Promise<void>((done) => {
      const stop = () => {
        server.close(() => done());
        server.closeAllConnections(); // an open page's keep-alive connections would hold it
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return EXIT_OK;
  } finally {
    built.remove();
  }
}
