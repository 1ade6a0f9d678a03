// The one function both bundler plugins call: what a `.cnn` import compiles to.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { summarize } from '../../compiler/summary.ts';
import { cnnModuleSource, formatBuildMessage } from '../../plugins/module-source.ts';
import { BLOCKS_CNN, BROKEN_CNN, LENET, REPO, USES_BLOCKS_CNN, WARNS_CNN, tempProject } from './fixtures.ts';

/** A Siamese triplet model: three inputs, one shared encoder, no classes. */
const TRIPLET_CNN = `block enc()(x) {
  x -> conv 4, 3x3, pad same -> relu -> flatten -> dense 4 -> l2_normalize
}

model Siamese {
  input anchor: 6 x 6 x 1
  input positive: 6 x 6 x 1
  input negative: 6 x 6 x 1
  share e = enc()
  a = e(anchor)
  p = e(positive)
  n = e(negative)
  output a, p, n
  loss triplet(a, p, n, alpha 0.5)
}
`;

const project = tempProject('cnnc-module-source-');
afterAll(() => project.remove());

/** Evaluates generated ESM as Node would import it. */
async function evaluate(code: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<string, unknown>;
}

describe('cnnModuleSource', () => {
  it('exports the name, summary, graph and diagnostics of LeNet-5, with paths relative to the root', async () => {
    const out = cnnModuleSource(LENET, readFileSync(LENET, 'utf8'), { root: REPO });
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.watchFiles).toEqual([LENET]);
    const mod = await evaluate(out.code!);
    const expected = summarize(compileModel({ file: LENET }).graph!);
    expect(mod.name).toBe('LeNet5');
    expect(mod.summary).toEqual(expected);
    expect((mod.summary as typeof expected).totals.params).toBe(62_006);
    expect(mod.diagnostics).toEqual([]);
    expect(mod.default).toEqual({ name: mod.name, summary: mod.summary, graph: mod.graph, diagnostics: mod.diagnostics });
    expect(out.code).toContain('"file":"stdlib/lenet5.cnn"');
    expect(out.code).not.toContain(REPO);
  });

  it('builds the model named in the options, with overrides', async () => {
    const out = cnnModuleSource(LENET, readFileSync(LENET, 'utf8'), { model: 'LeNet5', overrides: { classes: 2 } });
    const mod = await evaluate(out.code!);
    // The last dense layer shrinks from 84*10+10 to 84*2+2 parameters.
    expect((mod.summary as { totals: { params: number } }).totals.params).toBe(62_006 - 680);
  });

  it('turns error diagnostics into located errors and produces no code', () => {
    const file = project.write('broken.cnn', BROKEN_CNN);
    const out = cnnModuleSource(file, BROKEN_CNN);
    expect(out.code).toBeUndefined();
    expect(out.errors).toHaveLength(1);
    const [error] = out.errors;
    expect(error.location).toEqual({ file, line: 4, column: 3, length: 4, lineText: '  cnov 3' });
    expect(error.hint).toBe("did you mean 'conv'?");
    expect(formatBuildMessage(error, 'error')).toBe(`${file}:4:3: error: ${error.text}\n  hint: did you mean 'conv'?`);
  });

  it('keeps warnings as warnings, still producing the module', async () => {
    const file = project.write('warns.cnn', WARNS_CNN);
    const out = cnnModuleSource(file, WARNS_CNN);
    expect(out.errors).toEqual([]);
    expect(out.warnings.map((w) => [w.code, w.location.line, w.location.column])).toEqual([['CNN301', 3, 3]]);
    const mod = await evaluate(out.code!);
    expect((mod.diagnostics as { code: string; span: { file: string } }[]).map((d) => [d.code, d.span.file])).toEqual([['CNN301', 'warns.cnn']]);
  });

  it('watches every file the model was built from, and locates errors inside imported files', () => {
    const blocks = project.write('lib/blocks.cnn', BLOCKS_CNN);
    const net = project.write('lib/net.cnn', USES_BLOCKS_CNN);
    const out = cnnModuleSource(net, USES_BLOCKS_CNN);
    expect(out.errors).toEqual([]);
    expect([...out.watchFiles].sort()).toEqual([blocks, net].sort());

    const brokenBlocks = project.write('lib2/blocks.cnn', BLOCKS_CNN.replace('relu', 'relux'));
    const net2 = project.write('lib2/net.cnn', USES_BLOCKS_CNN);
    const failed = cnnModuleSource(net2, USES_BLOCKS_CNN);
    expect(failed.errors.map((e) => [e.location.file, e.location.line, e.location.lineText.trim()])).toEqual([[brokenBlocks, 2, 'return x -> conv f, 3x3, pad same -> relux']]);
  });

  it('reports a missing import as an error at the import line', () => {
    const file = project.write('missing.cnn', 'import "./nowhere.cnn"\nmodel A() {\n  input x: 4\n}\n');
    const out = cnnModuleSource(file, readFileSync(file, 'utf8'));
    expect(out.errors.map((e) => [e.location.line, e.location.column])).toEqual([[1, 1]]);
    expect(out.errors[0].text).toContain(join(project.root, 'nowhere.cnn'));
  });

  it('a file without the model asked for is an error, never an empty module', () => {
    const blocksOnly = project.write('blocks-only.cnn', BLOCKS_CNN);
    const none = cnnModuleSource(blocksOnly, BLOCKS_CNN);
    expect(none.code).toBeUndefined();
    expect(none.errors.map((e) => e.text)).toEqual([`CNN105: ${blocksOnly} declares no model`]);
    const misspelt = cnnModuleSource(LENET, readFileSync(LENET, 'utf8'), { model: 'LeNet6' });
    expect(misspelt.code).toBeUndefined();
    expect(misspelt.errors.map((e) => [e.code, e.hint])).toEqual([['CNN105', "did you mean 'LeNet5'?"]]);
  });

  it('with the bundle option carries the training bundle of any model with a loss', () => {
    const exported = (code: string | undefined) => (/^export \{([^}]*)\}/m.exec(code ?? '')?.[1] ?? '').split(',').map((n) => n.trim()).filter(Boolean).sort();
    const lenet = cnnModuleSource(LENET, readFileSync(LENET, 'utf8'), { overrides: { channels: 1 }, bundle: { batch: 4 } });
    expect(exported(lenet.code)).toEqual(['BATCH', 'CLASSES', 'IMAGE_SHAPE', 'MODEL', 'WEIGHTS', 'createModel']);
    const triplet = project.write('triplet.cnn', TRIPLET_CNN);
    const three = cnnModuleSource(triplet, TRIPLET_CNN, { bundle: { batch: 4 } });
    expect(three.errors).toEqual([]);
    expect(exported(three.code)).toEqual(['BATCH', 'MODEL', 'WEIGHTS', 'createModel']);
    expect(three.code).toContain('export default { name, summary, graph, diagnostics, createModel };');
    const encoder = project.write('encoder.cnn', 'model E() {\n  input x: 8 x 8 x 1\n  flatten\n  dense 4\n}\n');
    const noLoss = cnnModuleSource(encoder, readFileSync(encoder, 'utf8'), { bundle: { batch: 4 } });
    expect(noLoss.code).toBeUndefined();
    expect(noLoss.errors.map((e) => [e.code, e.location.line, e.text])).toEqual([['bundle', 1, expect.stringMatching(/model E declares no loss/)]]);
  });
});
