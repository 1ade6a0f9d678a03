// A read-only HTTP server for a folder of static files on 127.0.0.1 (the playground, and the
// pages of the browser tests, which add files held in memory).

import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.gz': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wgsl': 'text/plain; charset=utf-8',
  '.cnn': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface Served {
  readonly url: string;
  readonly server: Server;
}

/**
 * Cross-origin isolation: a page served with these may share WebAssembly memory between threads
 * (the wasm back end's kernel threads); everything it loads must then be same-origin, as here.
 */
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

export interface ServeOptions {
  /** Adds the headers above. */
  readonly crossOriginIsolated?: boolean;
  /** URL folder (`/data/`) -> a folder on disk served there instead of under `root`. */
  readonly mounts?: Readonly<Record<string, string>>;
}

/**
 * Serves `root` on 127.0.0.1:`port` (0 picks a free port), plus `virtual` files (URL path -> text)
 * held in memory and the `mounts`. Nothing outside `root` and the mounted folders is served.
 */
export async function serveStatic(root: string, port: number, virtual: Readonly<Record<string, string>> = {}, options: ServeOptions = {}): Promise<Served> {
  const extra = options.crossOriginIsolated ? ISOLATED : {};
  const mounts = Object.entries(options.mounts ?? {});
  const server = createServer((request, response) => {
    void (async () => {
      let path: string;
      try {
        path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
      } catch {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request path: ${request.url}`);
        return;
      }
      if (path === '/favicon.ico') {
        response.writeHead(204).end(); // keeps a 404 line out of the page console
        return;
      }
      const page = virtual[path];
      if (page !== undefined) {
        response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/plain', 'cache-control': 'no-store', ...extra }).end(page);
        return;
      }
      const [prefix, folder] = mounts.find(([p]) => path.startsWith(p)) ?? ['/', root];
      const base = resolve(folder);
      const file = resolve(base, `./${path.slice(prefix.length)}${path.endsWith('/') ? 'index.html' : ''}`);
      if (file !== base && !file.startsWith(base + sep)) {
        response.writeHead(403).end();
        return;
      }
      try {
        if (!(await stat(file)).isFile()) throw new Error('not a file');
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...extra }).end(await readFile(file));
      } catch {
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      }
    })();
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
