// The package as a user gets it: `npm pack` (which builds dist/ through prepack), installed into a
// fresh project outside this repository. There `cnnc check` runs from built JavaScript, `cnnc train`
// trains on the bundled data (wasm kernel and batch workers), `cnnc export` writes a PyTorch folder
// with its train.py, a Vite build compiles an imported .cnn file with its training bundle and
// cnnc/runtime, and a strict `tsc --noEmit` accepts the runtime's and the .cnn module's types.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const NET = `model Net(classes = 10) {
  input image: 16 x 16 x 1
  conv 4, 3x3, pad same -> relu
  maxpool 2x2, stride 2
  flatten
  dense classes -> softmax
  loss cross_entropy
}
`;

const APP = `/// <reference types="cnnc/cnn-module" />
import type { BundledModel } from 'cnnc/runtime';
import { createModel, BATCH, summary } from './net.cnn';

export async function start(device: GPUDevice): Promise<number> {
  const model: BundledModel = await createModel(device, { seed: 1 });
  const loss: number = await model.trainStep({ images: new Float32Array(BATCH * 256), labels: new Array<number>(BATCH).fill(0) });
  const bytes: Uint8Array = await model.saveWeights();
  return loss + bytes.length + summary.totals.params;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'bundler',
    lib: ['ES2022', 'DOM'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    types: [],
  },
  include: ['src'],
};

/** A Vite build run from the project (vite itself from this checkout: it is not cnnc's to install). */
const VITE_BUILD = `import { build } from ${JSON.stringify(pathToFileURL(join(REPO, 'node_modules/vite/dist/node/index.js')).href)};
import { cnncVite } from 'cnnc/plugins/vite';
await build({
  root: process.cwd(),
  configFile: false,
  logLevel: 'silent',
  plugins: [cnncVite({ bundle: { batch: 4 } })],
  build: { outDir: 'out', minify: false, lib: { entry: 'src/app.ts', formats: ['es'], fileName: 'app' } },
});
`;

/** esbuild comes with cnnc (a dependency), so the project's own copy builds. */
const ESBUILD_BUILD = `import { build } from 'esbuild';
import { cnncEsbuild } from 'cnnc/plugins/esbuild';
const result = await build({
  entryPoints: ['src/app.ts'],
  outfile: 'out/esbuild-app.js',
  bundle: true,
  format: 'esm',
  logLevel: 'silent',
  plugins: [cnncEsbuild({ bundle: { batch: 4 } })],
});
if (result.errors.length > 0) throw new Error(JSON.stringify(result.errors));
`;

function run(cmd: string, args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('the npm package, installed into a fresh project', () => {
  let work: string;
  let app: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cnnc-pack-'));
    execFileSync(NPM, ['pack', '--silent', '--pack-destination', work], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error('npm pack wrote no tarball');
    app = join(work, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The registry is reachable, but everything cnnc needs is in the npm cache `npm ci` filled.
    const install = run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], app);
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
    writeFileSync(join(app, 'src/net.cnn'), NET);
    writeFileSync(join(app, 'src/app.ts'), APP);
  }, 240_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs built JavaScript only: no TypeScript to transpile at start-up', () => {
    const files = readdirSync(join(app, 'node_modules/cnnc'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).toContain(join('dist', 'cli', 'main.js'));
    expect(files).toContain(join('dist', 'runtime.js'));
  });

  it('runs `cnnc check` from the installed bin: clean, then an error with its place', () => {
    const bin = join(app, 'node_modules/.bin/cnnc');
    expect(run(bin, ['check', 'src/net.cnn'], app)).toMatchObject({ code: 0, stdout: '' });
    writeFileSync(join(app, 'src/broken.cnn'), NET.replace('flatten\n', ''));
    const broken = run(bin, ['check', 'src/broken.cnn'], app);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^src\/broken\.cnn:5:\d+: error: dense expects a vector/);
    // The standard library ships with it.
    const summary = run(bin, ['summary', join(app, 'node_modules/cnnc/dist/stdlib/lenet5.cnn'), '--json'], app);
    expect((JSON.parse(summary.stdout) as { totals: { params: number } }).totals.params).toBe(62006);
  });

  it('trains on the bundled data with wasm and batch workers, then exports to PyTorch: what they read at run time ships', () => {
    const bin = join(app, 'node_modules/.bin/cnnc');
    const lenet = join(app, 'node_modules/cnnc/dist/stdlib/lenet5.cnn');
    const args = ['--set', 'channels=1', '--data', 'fashion-mnist-bundled', '--limit', '64', '--epochs', '1', '--batch', '32', '--workers', '1', '--backend', 'wasm', '--out', 'out/lenet.safetensors'];
    const train = run(bin, ['train', lenet, ...args], app);
    expect(train.stderr).not.toMatch(/error|cannot find/i);
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/trained LeNet5 for 1 epoch\(s\), 2 steps, .* on wasm/);
    const exported = run(bin, ['export', lenet, '--set', 'channels=1', '--weights', 'out/lenet.safetensors', '--to', 'pytorch', '-o', 'pt'], app);
    expect(exported.code).toBe(0);
    expect(readdirSync(join(app, 'pt')).sort()).toEqual(['model.py', 'train.py', 'weights.safetensors']);
  });

  it('draws the diagram and writes the prebuilt playground', () => {
    const bin = join(app, 'node_modules/.bin/cnnc');
    expect(run(bin, ['graph', 'src/net.cnn', '-o', 'net.svg'], app)).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(app, 'net.svg'), 'utf8')).toMatch(/class="node" data-node="conv_1"/);
    expect(run(bin, ['playground', '--out', 'site'], app).code).toBe(0);
    const site = readdirSync(join(app, 'site'), { recursive: true }).map(String);
    expect(site).toEqual(expect.arrayContaining(['index.html', 'main.js', join('data', 't10k-images-idx3-ubyte.gz')]));
  });

  it('serves the playground isolated, its data/ from the package\'s one copy', async () => {
    const files = readdirSync(join(app, 'node_modules/cnnc/dist'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('t10k-images-idx3-ubyte.gz'))).toEqual([join('data', 't10k-images-idx3-ubyte.gz')]);
    const server = spawn(join(app, 'node_modules/.bin/cnnc'), ['playground', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((done, fail) => {
        server.stdout.on('data', (chunk: Buffer) => {
          const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(String(chunk));
          if (found) done(found[0]);
        });
        server.once('exit', (code) => fail(new Error(`cnnc playground exited ${code}`)));
      });
      const page = await fetch(url);
      expect([page.status, page.headers.get('cross-origin-embedder-policy')]).toEqual([200, 'require-corp']);
      const labels = await fetch(`${url}data/t10k-labels-idx1-ubyte.gz`);
      expect(labels.status).toBe(200);
      expect(Buffer.from(await labels.arrayBuffer()).equals(readFileSync(join(app, 'node_modules/cnnc/dist/data/t10k-labels-idx1-ubyte.gz')))).toBe(true);
      expect((await fetch(`${url}data/../../package.json`)).status).not.toBe(200);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('says in one line when the playground port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = run(join(app, 'node_modules/.bin/cnnc'), ['playground', '--port', String(port)], app);
      expect([r.code, r.stderr]).toEqual([2, `cnnc playground: port ${port} on 127.0.0.1 is in use; pick another with --port N (0 picks a free one)\n`]);
    } finally {
      taken.close();
    }
  });

  it('builds with Vite: the .cnn import carries its model, kernels and cnnc/runtime', () => {
    writeFileSync(join(app, 'build.mjs'), VITE_BUILD);
    const r = run(process.execPath, ['build.mjs'], app);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = readFileSync(join(app, 'out/app.js'), 'utf8');
    expect(out).toContain('createBundledModel');
    expect(out).toContain('@compute');
    expect(out).not.toMatch(/from\s*["']cnnc/);
  });

  it('builds with esbuild and the esbuild plugin', () => {
    writeFileSync(join(app, 'esbuild.mjs'), ESBUILD_BUILD);
    const r = run(process.execPath, ['esbuild.mjs'], app);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = readFileSync(join(app, 'out/esbuild-app.js'), 'utf8');
    expect(out).toContain('@compute');
    expect(out).toContain('createBundledModel');
  });

  it('type-checks under a strict tsconfig against the installed declarations', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    const r = run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', app], app);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });
});
