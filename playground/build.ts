// Builds the playground into a folder of static files: index.html, main.js (the page: CodeMirror,
// the front end, the diagram, the training session; one esbuild bundle for browsers) and data/
// (the bundled Fashion-MNIST). The front end's few node: imports are served by shims/ over the
// page's in-memory files; the standard library is embedded as a generated module.

import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FASHION_FILES } from './fashion.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SHIMS: Readonly<Record<string, string>> = { fs: 'node-fs.ts', path: 'node-path.ts', url: 'node-url.ts' };

const pagePlugin: Plugin = {
  name: 'cnnc-playground',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|path|url)$/ }, (args) => ({ path: join(import.meta.dirname, 'shims', SHIMS[args.path.replace(/^node:/, '')]!) }));
    // Image-file decoders reach the page only through the data readers' imports; the page never
    // reads image files, so they become modules that say so if called.
    b.onResolve({ filter: /^(pngjs|jpeg-js)$/ }, (args) => ({ path: args.path, namespace: 'cnnc-playground-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'cnnc-playground-absent' }, (args) => ({
      contents: `const absent = () => { throw new Error(${JSON.stringify(`${args.path} is not available in the playground`)}); };\nexport default new Proxy({}, { get: absent });`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `the playground page cannot use ${args.path} (imported by ${args.importer})` }] }));
    b.onResolve({ filter: /^cnnc-playground:stdlib$/ }, () => ({ path: 'stdlib', namespace: 'cnnc-playground' }));
    b.onLoad({ filter: /.*/, namespace: 'cnnc-playground' }, () => {
      const dir = join(ROOT, 'stdlib');
      const files = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.cnn')).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
      return { contents: `export const STDLIB_FILES = ${JSON.stringify(files)};`, loader: 'js', watchFiles: Object.keys(files).map((f) => join(dir, f)) };
    });
  },
};

/** Copies the page's data files into `out`/data. */
function copyPlaygroundData(out: string): void {
  mkdirSync(join(out, 'data'), { recursive: true });
  for (const f of FASHION_FILES) copyFileSync(join(ROOT, 'data', f), join(out, 'data', f));
}

/**
 * Writes the site into `out` (created if needed). `data: false` leaves out data/: the installed
 * package serves its own data/ there instead of carrying the same 4 MB twice.
 */
export async function buildPlayground(out: string, options: { readonly data?: boolean } = {}): Promise<void> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(import.meta.dirname, 'main.ts')],
    outfile: join(out, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    plugins: [pagePlugin],
    logLevel: 'warning',
  });
  copyFileSync(join(import.meta.dirname, 'index.html'), join(out, 'index.html'));
  if (options.data !== false) copyPlaygroundData(out);
}
