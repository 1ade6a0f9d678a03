// Builds the installable package into dist/ (run by `npm pack` through `prepack`):
//   dist/cli/main.js, dist/plugins/{vite,esbuild,module-source}.js and every `*-worker.ts` as entry
//   points of one Node bundle with code splitting (each command's module is its own chunk, loaded
//   only when that command runs); dist/runtime.js, the browser-safe bundle runtime in one file;
//   dist/types/**.d.ts for the runtime and the plugins; dist/stdlib, dist/data, dist/package.json.
// dist/ mirrors the source tree, so code that finds files relative to its own source file
// (`new URL('../stdlib', import.meta.url)`) finds them under dist/ (see sourceUrlPlugin).

import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
/** Source folders whose code the built package carries. */
const SOURCE_DIRS = ['grammar', 'compiler', 'runtime', 'cli', 'lsp', 'plugins'];

/**
 * Bundled code shares a few chunk files, so `import.meta.url` no longer names the module's own
 * file. Each use is replaced by the URL the module would have under dist/ (dist/runtime/data/spec.js
 * for runtime/data/spec.ts), found from the running chunk's URL: every output file lies under
 * `.../dist/`.
 */
const sourceUrlPlugin: Plugin = {
  name: 'source-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const asBuilt = relative(ROOT, args.path).split('\\').join('/').replace(/\.ts$/, '.js');
      const url = `(import.meta.url.slice(0, import.meta.url.lastIndexOf('/dist/') + 6) + ${JSON.stringify(asBuilt)})`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Worker scripts start as files of their own (`new Worker(url)`), so each is an entry point. */
function workerEntries(): string[] {
  return SOURCE_DIRS.flatMap((d) => filesUnder(d, (n) => n.endsWith('-worker.ts')));
}

/**
 * Dependencies stay in node_modules, except the parser library: chevrotain's ES modules are
 * hundreds of small files (lodash-es) whose loading alone took 0.3 s of CPU per `cnnc check`.
 */
const BUNDLED_PACKAGES = new Set(['chevrotain']);

function externalPackages(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((n) => !BUNDLED_PACKAGES.has(n));
}

async function buildNode(): Promise<void> {
  const entries = ['cli/main.ts', 'plugins/vite.ts', 'plugins/esbuild.ts', 'plugins/module-source.ts', ...workerEntries()];
  await build({
    entryPoints: entries.map((e) => join(ROOT, e)),
    outdir: DIST,
    outbase: ROOT,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: externalPackages(),
    plugins: [sourceUrlPlugin],
    logLevel: 'warning',
  });
}

/**
 * dist/runtime.js, what `cnnc/runtime` resolves to (also inside this checkout, where the test
 * suites' global set-up rebuilds it so that bundles built by tests use the current sources).
 */
export async function buildRuntime(): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'runtime/bundle/index.ts')],
    outfile: join(DIST, 'runtime.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
}

/** Declarations for the runtime and the plugins; relative `.ts` specifiers become `.js`. */
function buildTypes(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.types.json')], { stdio: 'inherit' });
  const types = join(DIST, 'types');
  cpSync(join(ROOT, 'plugins/cnn-module.d.ts'), join(types, 'plugins/cnn-module.d.ts'));
  for (const file of filesUnder('dist/types', (n) => n.endsWith('.d.ts'))) {
    const path = join(ROOT, file);
    const text = readFileSync(path, 'utf8').replace(/((?:from|import\()\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
    writeFileSync(path, text);
  }
  // The runtime's API names WebGPU's types (GPUDevice): consumers get them from @webgpu/types.
  const index = join(types, 'runtime/bundle/index.d.ts');
  writeFileSync(index, `/// <reference types="@webgpu/types" />\n${readFileSync(index, 'utf8')}`);
}

function copyAssets(): void {
  cpSync(join(ROOT, 'stdlib'), join(DIST, 'stdlib'), { recursive: true });
  cpSync(join(ROOT, 'data'), join(DIST, 'data'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  // cli/main.ts reads its version from ../package.json, which under dist/ is this file.
  writeFileSync(join(DIST, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }, null, 2)}\n`);
}

export async function buildDist(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(dirname(DIST), { recursive: true });
  await Promise.all([buildNode(), buildRuntime()]);
  buildTypes();
  copyAssets();
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildDist();
