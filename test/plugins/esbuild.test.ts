// A real esbuild build of an entry that imports .cnn files through the cnnc plugin; the output is
// then imported in Node.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildFailure } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { cnncEsbuild } from '../../plugins/esbuild.ts';
import { BROKEN_CNN, LENET, WARNS_CNN, entryImporting, tempProject, type BuiltModule } from './fixtures.ts';

const project = tempProject('cnnc-esbuild-');
afterAll(() => project.remove());

async function bundle(entry: string, outfile: string) {
  return build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'neutral', absWorkingDir: project.root, logLevel: 'silent', plugins: [cnncEsbuild()] });
}

async function failure(work: Promise<unknown>): Promise<BuildFailure> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error) || !('errors' in error)) throw new Error(`expected an esbuild failure, got ${String(error)}`);
  return error as BuildFailure;
}

describe('esbuild plugin', () => {
  it('bundles stdlib/lenet5.cnn into a module that reports 62,006 parameters when run in Node', async () => {
    const entry = project.write('lenet/entry.ts', entryImporting(project.specifier(LENET, 'lenet')));
    const outfile = join(project.root, 'lenet/out.mjs');
    const started = performance.now();
    const result = await bundle(entry, outfile);
    process.stdout.write(`esbuild + cnnc plugin: LeNet-5 entry built in ${(performance.now() - started).toFixed(0)} ms\n`);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const built = (await import(pathToFileURL(outfile).href)) as BuiltModule;
    expect(built.name).toBe('LeNet5');
    expect(built.summary.totals.params).toBe(62_006);
    expect(built.model.name).toBe('LeNet5');
    expect(built.diagnostics).toEqual([]);
    expect(built.graph.layers.map((l) => l.name)).toEqual(built.summary.layers.map((l) => l.name));
    expect(readFileSync(outfile, 'utf8')).not.toMatch(/"file":"\//); // no absolute build paths
  });

  it('fails the build on a broken .cnn with the diagnostic at its file:line:col', async () => {
    project.write('broken/net.cnn', BROKEN_CNN);
    const entry = project.write('broken/entry.ts', entryImporting('./net.cnn'));
    const error = await failure(bundle(entry, join(project.root, 'broken/out.mjs')));
    expect(error.errors).toHaveLength(1);
    const [message] = error.errors;
    expect(message.text).toBe("CNN100: unknown layer or block 'cnov'");
    expect(message.pluginName).toBe('cnnc');
    // esbuild's locations have 0-based columns: cnnc's 4:3 is esbuild's 4:2.
    expect(message.location).toMatchObject({ file: 'broken/net.cnn', line: 4, column: 2, length: 4, lineText: '  cnov 3' });
    expect(message.notes.map((n) => n.text)).toContain("hint: did you mean 'conv'?");
    expect(error.message).toContain('broken/net.cnn:4:2: ERROR: [plugin: cnnc] CNN100');
  });

  it('passes warnings through as esbuild warnings and still builds', async () => {
    project.write('warns/net.cnn', WARNS_CNN);
    const entry = project.write('warns/entry.ts', entryImporting('./net.cnn'));
    const outfile = join(project.root, 'warns/out.mjs');
    const result = await bundle(entry, outfile);
    expect(result.warnings.map((w) => [w.text.slice(0, 7), w.location?.file, w.location?.line, w.location?.column])).toEqual([['CNN301:', 'warns/net.cnn', 3, 2]]);
    const built = (await import(pathToFileURL(outfile).href)) as BuiltModule;
    expect(built.diagnostics).toHaveLength(1);
  });
});
