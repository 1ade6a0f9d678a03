// The loopback server behind the browser tests: serves one folder and nothing outside it, and
// closes itself when its lifetime ends.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveFolder } from '../support/browser.ts';

const root = mkdtempSync(join(tmpdir(), 'cnnc-serve-'));
mkdirSync(join(root, 'site/sub'), { recursive: true });
writeFileSync(join(root, 'site/index.html'), '<p>home</p>');
writeFileSync(join(root, 'site/sub/app.js'), 'export default 1;');
writeFileSync(join(root, 'secret.txt'), 'outside the served folder');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((done, fail) => {
    get({ hostname, port, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => done({ status: response.statusCode ?? 0, body }));
    }).on('error', fail);
  });
}

describe('serveFolder', () => {
  it('serves files with their content types on 127.0.0.1, and in-memory pages', async () => {
    const server = await serveFolder(join(root, 'site'), 10_000, { '/virtual.html': '<p>virtual</p>' });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const js = await fetch(new URL('sub/app.js', server.url));
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('text/javascript');
      expect(await js.text()).toBe('export default 1;');
      expect(await (await fetch(server.url)).text()).toBe('<p>home</p>');
      expect(await (await fetch(new URL('virtual.html', server.url))).text()).toBe('<p>virtual</p>');
      expect((await fetch(new URL('missing.js', server.url))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses paths that climb out of the folder', async () => {
    const server = await serveFolder(join(root, 'site'), 10_000);
    try {
      // Raw request paths: fetch() would normalise the dot segments away before sending.
      for (const path of ['/../secret.txt', '/sub/../../secret.txt', '/..%2fsecret.txt', '/sub%2f..%2f..%2fsecret.txt']) {
        const { status, body } = await rawGet(server.url, path);
        expect(body, path).not.toContain('outside');
        expect([403, 404], path).toContain(status);
      }
      expect((await rawGet(server.url, '/..%2fsecret.txt')).status).toBe(403);
      expect((await rawGet(server.url, '/%E0%A4%A')).status).toBe(400); // not UTF-8: refused, no crash
    } finally {
      await server.close();
    }
  });

  it('closes itself after its lifetime', async () => {
    const server = await serveFolder(join(root, 'site'), 200);
    expect((await fetch(server.url)).status).toBe(200);
    await new Promise((done) => setTimeout(done, 400));
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
