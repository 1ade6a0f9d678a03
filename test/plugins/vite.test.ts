// A real Vite 8 production build (library mode, temp root) of an entry that imports .cnn files
// through the cnnc plugin; the output is then imported in Node.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, createLogger, createServer, type Logger } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { cnncVite } from '../../plugins/vite.ts';
import { BLOCKS_CNN, BROKEN_CNN, LENET, USES_BLOCKS_CNN, WARNS_CNN, entryImporting, tempProject, type BuiltModule } from './fixtures.ts';

const project = tempProject('cnnc-vite-');
afterAll(() => project.remove());

/** A Vite logger that keeps warnings for the test instead of printing them. */
function recordingLogger(warnings: string[]): Logger {
  const logger = createLogger('silent');
  return { ...logger, warn: (msg) => warnings.push(msg), warnOnce: (msg) => warnings.push(msg) };
}

/** Builds `dir/entry.ts` to `dir/dist` and returns the path of the ES module written. */
async function viteBuild(dir: string, warnings: string[] = []): Promise<string> {
  const root = join(project.root, dir);
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    customLogger: recordingLogger(warnings),
    plugins: [cnncVite()],
    build: {
      outDir: join(root, 'dist'),
      emptyOutDir: true,
      minify: false,
      lib: { entry: join(root, 'entry.ts'), formats: ['es'], fileName: 'entry' },
    },
  });
  const js = readdirSync(join(root, 'dist')).filter((f) => /\.m?js$/.test(f));
  expect(js).toHaveLength(1);
  return join(root, 'dist', js[0]);
}

describe('Vite plugin', () => {
  it('builds stdlib/lenet5.cnn into a module that reports 62,006 parameters when run in Node', async () => {
    project.write('lenet/entry.ts', entryImporting(project.specifier(LENET, 'lenet')));
    const started = performance.now();
    const out = await viteBuild('lenet');
    process.stdout.write(`vite + cnnc plugin: LeNet-5 entry built in ${(performance.now() - started).toFixed(0)} ms\n`);
    const built = (await import(pathToFileURL(out).href)) as BuiltModule;
    expect(built.name).toBe('LeNet5');
    expect(built.summary.totals.params).toBe(62_006);
    expect(built.model.name).toBe('LeNet5');
    expect(built.diagnostics).toEqual([]);
    expect(built.graph.layers.map((l) => l.name)).toEqual(built.summary.layers.map((l) => l.name));
    expect(readFileSync(out, 'utf8')).not.toMatch(/"?file"?:\s*"\//); // no absolute build paths
  });

  it('fails the build on a broken .cnn with every diagnostic as file:line:col', async () => {
    const cnn = project.write('broken/net.cnn', BROKEN_CNN);
    project.write('broken/entry.ts', entryImporting('./net.cnn'));
    const error: unknown = await viteBuild('broken').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${cnn}:4:3: error: CNN100: unknown layer or block 'cnov'`);
    expect(message).toContain("hint: did you mean 'conv'?");
  });

  it('passes warnings to Vite and still builds', async () => {
    const cnn = project.write('warns/net.cnn', WARNS_CNN);
    project.write('warns/entry.ts', entryImporting('./net.cnn'));
    const warnings: string[] = [];
    const out = await viteBuild('warns', warnings);
    expect(warnings.join('\n')).toContain(`${cnn}:3:3: warning: CNN301`);
    const built = (await import(pathToFileURL(out).href)) as BuiltModule;
    expect(built.diagnostics).toHaveLength(1);
  });

  it('in the dev server, editing an imported .cnn file rebuilds the .cnn module that imports it', async () => {
    const blocks = project.write('dev/blocks.cnn', BLOCKS_CNN);
    project.write('dev/net.cnn', USES_BLOCKS_CNN);
    const server = await createServer({ root: join(project.root, 'dev'), configFile: false, logLevel: 'silent', plugins: [cnncVite()], server: { middlewareMode: true, ws: false } });
    try {
      expect((await server.transformRequest('/net.cnn'))?.code).toContain('export const name = "Staged"');
      writeFileSync(blocks, BLOCKS_CNN.replace('relu', 'relux'));
      server.watcher.emit('change', blocks); // as the file watcher would, without waiting for it
      // Without the plugin's hotUpdate, Vite keeps serving the cached module built from the old block.
      let error = '';
      for (const started = Date.now(); error === '' && Date.now() - started < 5_000; ) {
        error = await server.transformRequest('/net.cnn').then(
          () => '',
          (e: unknown) => (typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e)),
        );
        if (error === '') await new Promise((done) => setTimeout(done, 50));
      }
      expect(error).toContain(`${blocks}:2:40: error: CNN100: unknown layer or block 'relux'`);
    } finally {
      await server.close();
    }
  });
});
