// Builds the installable package into dist/ (run by `npm pack` through `prepack`; `--runtime`
// builds only dist/runtime.js, as `npm ci` does through `prepare`):
//   dist/cli/main.js, dist/plugins/{vite,esbuild,module-source}.js and every `*-worker.ts` as entry
//   points of one Node bundle with code splitting (each command's module is its own chunk, loaded
//   only when that command runs); dist/runtime.js, the browser-safe bundle runtime in one file;
//   dist/types/**.d.ts for the runtime and the plugins; dist/playground, the page `cnnc playground`
//   serves (its data/ is dist/data, served in its place); dist/stdlib, dist/data, dist/package.json.
// dist/ mirrors the source tree, so code that finds files relative to its own source file
// (`new URL('../stdlib', import.meta.url)`) finds them under dist/ (see sourceUrlPlugin).

import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** Files under `dir` (absolute, or relative to the repository), as paths relative to `dir`. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const base = resolve(ROOT, dir);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => relative(base, join(e.parentPath, e.name)));
}

/** Worker scripts start as files of their own (`new Worker(url)`), so each is an entry point. */
function workerEntries(): string[] {
  return SOURCE_DIRS.flatMap((d) => filesUnder(d, (n) => n.endsWith('-worker.ts')).map((f) => join(d, f)));
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

async function buildNode(out: string): Promise<void> {
  const entries = ['cli/main.ts', 'plugins/vite.ts', 'plugins/esbuild.ts', 'plugins/module-source.ts', ...workerEntries()];
  await build({
    entryPoints: entries.map((e) => join(ROOT, e)),
    outdir: out,
    outbase: ROOT,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: externalPackages(),
    // Less to parse at every start; names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [sourceUrlPlugin],
    logLevel: 'warning',
  });
}

/**
 * dist/runtime.js, what `cnnc/runtime` resolves to (also inside this checkout, where the test
 * suites' global set-up rebuilds it so that bundles built by tests use the current sources).
 */
export async function buildRuntime(out = DIST): Promise<void> {
  const result = await build({
    entryPoints: [join(ROOT, 'runtime/bundle/index.ts')],
    outfile: join(out, 'runtime.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) writeAtomic(file.path, file.contents);
}

/** Readers (concurrent test files) see the old file or the new one, never a part. */
function writeAtomic(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** Declarations for the runtime and the plugins; relative `.ts` specifiers become `.js`. */
function buildTypes(out: string): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const types = join(out, 'types');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.types.json'), '--outDir', types], { stdio: 'inherit' });
  cpSync(join(ROOT, 'plugins/cnn-module.d.ts'), join(types, 'plugins/cnn-module.d.ts'));
  for (const file of filesUnder(types, (n) => n.endsWith('.d.ts'))) {
    const path = join(types, file);
    const text = readFileSync(path, 'utf8').replace(/((?:from|import\()\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
    writeFileSync(path, text);
  }
  // The runtime's API names WebGPU's types (GPUDevice): consumers get them from @webgpu/types.
  const index = join(types, 'runtime/bundle/index.d.ts');
  writeFileSync(index, `/// <reference types="@webgpu/types" />\n${readFileSync(index, 'utf8')}`);
}

function copyAssets(out: string): void {
  cpSync(join(ROOT, 'stdlib'), join(out, 'stdlib'), { recursive: true });
  cpSync(join(ROOT, 'data'), join(out, 'data'), { recursive: true });
  // `cnnc export --to pytorch` copies this script beside the model.py it writes.
  mkdirSync(join(out, 'compiler/export/pytorch'), { recursive: true });
  cpSync(join(ROOT, 'compiler/export/pytorch/train.py'), join(out, 'compiler/export/pytorch/train.py'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  // cli/main.ts reads its version from ../package.json, which under dist/ is this file.
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }, null, 2)}\n`);
}

/**
 * Builds into a staging folder, then replaces dist/ file by file: test files that run beside
 * `npm pack` (and read dist/runtime.js) never see dist/ missing or half written.
 */
export async function buildDist(): Promise<void> {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  const stage = mkdtempSync(join(ROOT, 'tmp', 'dist-'));
  try {
    const { buildPlayground } = await import('../playground/build.ts');
    await Promise.all([buildNode(stage), buildRuntime(stage), buildPlayground(join(stage, 'playground'), { data: false })]);
    buildTypes(stage);
    copyAssets(stage);
    const built = new Set(filesUnder(stage, () => true));
    for (const file of built) writeAtomic(join(DIST, file), readFileSync(join(stage, file)));
    for (const file of filesUnder(DIST, () => true)) if (!built.has(file)) rmSync(join(DIST, file));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

// `--runtime`: only dist/runtime.js, what `npm ci` builds in a checkout (package.json's prepare) so
// that bundles written by `cnnc build` there resolve `cnnc/runtime`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await (process.argv.includes('--runtime') ? buildRuntime() : buildDist());
