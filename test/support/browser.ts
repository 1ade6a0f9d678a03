// Runs TypeScript in a real headless Chromium page with WebGPU on SwiftShader (a CPU Vulkan
// device), so tests can prove that code runs unchanged in a browser. Debian's chromium is driven
// by playwright-core; no browser is ever downloaded. Pages are served over a loopback HTTP server
// because WebGPU exists only in secure contexts (http://127.0.0.1 is one, about:blank is not).
// Without chromium a suite is skipped loudly, unless CNNC_REQUIRE_WEBGPU=1, where it fails.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { build, type BuildFailure, type Plugin } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { serveStatic } from '../../cli/static-server.ts';

export const CHROMIUM_PATH = process.env.CNNC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags that expose WebGPU to pages on SwiftShader. Measured on Debian's Chromium 156 without a
 * GPU: `--enable-unsafe-webgpu` is the one that matters (without it requestAdapter() gives null,
 * whatever else is set); `--use-webgpu-adapter=swiftshader` pins the CPU adapter so results match
 * on machines with a GPU; `--enable-features=Vulkan` is not needed here but harmless;
 * `--disable-gpu` keeps compositing off hardware paths and does not stop WebGPU on SwiftShader.
 */
export const CHROMIUM_WEBGPU_FLAGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
];

const INSTALL_HINT = 'apt-get install -y chromium libvulkan1 (Debian: SwiftShader WebGPU comes with chromium)';

/** Undefined when the browser can be used; otherwise why not, with the install command. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `no chromium at ${CHROMIUM_PATH} (CNNC_CHROMIUM names another)`;
}

/**
 * A describe block that needs the browser: skipped with a loud message when chromium is missing,
 * failing instead when CNNC_REQUIRE_WEBGPU=1 (CI must not pass by skipping).
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing !== undefined) {
    if (process.env.CNNC_REQUIRE_WEBGPU === '1') throw new Error(`CNNC_REQUIRE_WEBGPU=1 but ${missing}`);
    process.stderr.write(`\n*** BROWSER TESTS SKIPPED: ${missing}\n*** To run them: ${INSTALL_HINT}\n\n`);
  }
  describe.skipIf(missing !== undefined)(`${name} [chromium, WebGPU on SwiftShader]`, body);
}

// ---------------------------------------------------------------------------------------------
// Serving a folder

export interface StaticServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `root` read-only on 127.0.0.1 at a random port, plus `virtual` files (URL path -> text)
 * held in memory. The server closes itself after `lifetimeMs` so that a test that forgets it
 * cannot keep the process alive.
 */
export async function serveFolder(root: string, lifetimeMs = 120_000, virtual: Readonly<Record<string, string>> = {}): Promise<StaticServer> {
  const { url, server } = await serveStatic(root, 0, virtual);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((done) => {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => done());
    });
    return closed;
  };
  const timer = setTimeout(() => void close(), lifetimeMs);
  timer.unref();
  return { url, close };
}

// ---------------------------------------------------------------------------------------------
// Bundling TypeScript for the page

export interface BrowserBundle {
  /** The bundle's path relative to the served folder (its URL path). */
  readonly path: string;
  readonly bytes: number;
  readonly ms: number;
}

export interface BundleOptions {
  /** The bundle's file name in the served folder; default `entry.js`. */
  readonly name?: string;
  /** esbuild plugins, e.g. cnnc's own for `.cnn` imports. */
  readonly plugins?: readonly Plugin[];
}

/**
 * Bundles a TypeScript entry (and every repository module it imports) into one ESM file for the
 * browser. esbuild's browser platform refuses `node:` imports, so a module that would not run in
 * a page fails here, at build time, with the importing file named.
 */
export async function bundleForBrowser(entry: string, servedDir: string, options: BundleOptions = {}): Promise<BrowserBundle> {
  const started = performance.now();
  const outfile = join(servedDir, options.name ?? 'entry.js');
  await mkdir(servedDir, { recursive: true });
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true, // a linked .map beside the bundle: page stack traces name the .ts files
    logLevel: 'silent',
    metafile: true,
    plugins: [...(options.plugins ?? [])],
  });
  const bytes = Object.entries(result.metafile.outputs).reduce((s, [path, o]) => (path.endsWith('.map') ? s : s + o.bytes), 0);
  return { path: relative(servedDir, outfile).split(sep).join('/'), bytes, ms: performance.now() - started };
}

/**
 * Why `entry` could not run in a browser: esbuild's errors for its imports that exist only in
 * Node (`node:` builtins, native addons), each as `file:line: message`. Empty when it bundles.
 */
export async function browserBundleErrors(entry: string): Promise<string[]> {
  try {
    await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent' });
    return [];
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    return error.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text));
  }
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

// ---------------------------------------------------------------------------------------------
// Running a module in a page

export interface BrowserSession {
  readonly browser: Browser;
  readonly launchMs: number;
  /**
   * Serves `servedDir`, opens a page, imports `modulePath` (relative to the folder) and returns
   * what its default export `(args) => value | Promise<value>` gives, as JSON-able data. Page
   * errors and console errors are part of the thrown error when the module fails.
   */
  runModule<T>(servedDir: string, modulePath: string, args?: unknown, timeoutMs?: number, page?: PageOptions): Promise<PageRun<T>>;
  close(): Promise<void>;
}

export interface PageOptions {
  /** Serves every file with COOP/COEP headers, so the page is cross-origin isolated (SharedArrayBuffer, wasm threads). */
  readonly crossOriginIsolated?: boolean;
}

export interface LaunchOptions {
  /** Off: chromium without its WebGPU flags, so pages have no adapter (what most browsers give a page today). */
  readonly webgpu?: boolean;
}

/** Chromium's flags without WebGPU: the same headless set minus what exposes the adapter. */
const NO_WEBGPU_FLAGS: readonly string[] = ['--headless=new', '--no-sandbox', '--disable-gpu'];

const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

export interface PageRun<T> {
  readonly value: T;
  /** Console lines the page printed, `type: text`. */
  readonly console: readonly string[];
  /** Page load plus the module's run, as the test saw it. */
  readonly ms: number;
}

/** The harness page, served beside the folder's files: imports a module and runs its default export. */
const HARNESS_PATH = '/__cnnc_harness__.html';
const HARNESS_HTML = `<!doctype html><meta charset="utf-8"><title>cnnc browser test</title>
<script type="module">
  window.cnncRun = async (url, args) => {
    const mod = await import(url);
    if (typeof mod.default !== 'function') throw new Error(url + ' has no default export function');
    return await mod.default(args);
  };
</script>
`;

type HarnessWindow = { cnncRun(url: string, args: unknown): Promise<unknown> };

/** Launches chromium with WebGPU on SwiftShader (or without WebGPU). Close the session in `afterAll`. */
export async function launchBrowser(timeoutMs = 30_000, options: LaunchOptions = {}): Promise<BrowserSession> {
  const missing = chromiumMissing();
  if (missing !== undefined) throw new Error(missing);
  const started = performance.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...(options.webgpu === false ? NO_WEBGPU_FLAGS : CHROMIUM_WEBGPU_FLAGS)], headless: true, timeout: timeoutMs });
  const launchMs = performance.now() - started;

  const runModule = async <T>(servedDir: string, modulePath: string, args: unknown = null, runTimeoutMs = 60_000, pageOptions: PageOptions = {}): Promise<PageRun<T>> => {
    const server = await serveFolder(servedDir, runTimeoutMs + 30_000, { [HARNESS_PATH]: HARNESS_HTML });
    let page: Page | undefined;
    const lines: string[] = [];
    try {
      const t0 = performance.now();
      page = await browser.newPage();
      page.setDefaultTimeout(runTimeoutMs);
      page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
      if (pageOptions.crossOriginIsolated) {
        await page.route('**/*', async (route) => {
          const response = await route.fetch();
          await route.fulfill({ response, headers: { ...response.headers(), ...ISOLATION_HEADERS } });
        });
      }
      await page.goto(new URL(HARNESS_PATH, server.url).href, { timeout: runTimeoutMs });
      // The import() lives in the harness page: vitest would rewrite one written here for Node.
      const run = page.evaluate(({ url, args }) => (window as unknown as HarnessWindow).cnncRun(url, args), { url: new URL(modulePath, server.url).href, args });
      const value = (await withTimeout(run, runTimeoutMs, `module ${modulePath} did not finish within ${runTimeoutMs} ms`)) as T;
      return { value, console: lines, ms: performance.now() - t0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`in chromium, ${modulePath} failed: ${message}${lines.length ? `\npage console:\n  ${lines.join('\n  ')}` : ''}`);
    } finally {
      await page?.close().catch(() => undefined);
      await server.close();
    }
  };

  return { browser, launchMs, runModule, close: () => browser.close() };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
