// docs/bundle.md's examples against the real API: its `cnnc build` command for LeNet-5 and its
// Siamese model are built, and each of its TypeScript examples is type-checked (strict tsc) against
// the modules they import, so a wrong return type or a missing `await` in the page fails here.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../../cli/build.ts';
import { REPO } from './lenet-bundle.ts';

const DOC = readFileSync(join(REPO, 'docs/bundle.md'), 'utf8');

/** The page's fenced blocks of one language, in order. */
function blocks(lang: string): string[] {
  return [...DOC.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The examples' free names: what a user's page would have in hand. */
const IN_HAND = `declare const device: GPUDevice;
declare const images: Float32Array;
declare const labels: number[];
declare const anchor: Float32Array;
declare const positive: Float32Array;
declare const negative: Float32Array;
`;

describe('docs/bundle.md', () => {
  let dir: string;
  beforeAll(async () => {
    mkdirSync(join(REPO, 'tmp'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'tmp', 'cnnc-bundle-doc-'));
    const lenet = /npx cnnc build (stdlib\/lenet5\.cnn [^\n]*) -o out\/lenet5/.exec(DOC)?.[1];
    if (lenet === undefined) throw new Error('docs/bundle.md no longer shows `cnnc build stdlib/lenet5.cnn ... -o out/lenet5`');
    const [siamese] = blocks('cnn');
    if (siamese === undefined) throw new Error('docs/bundle.md no longer shows the Siamese model');
    writeFileSync(join(dir, 'siamese.cnn'), siamese);
    const [lenetArgs, siameseArgs] = [lenet.split(' '), ['siamese.cnn', '--batch', '16']];
    lenetArgs[0] = join(REPO, lenetArgs[0]!);
    siameseArgs[0] = join(dir, siameseArgs[0]!);
    for (const [args, out] of [[lenetArgs, 'out/lenet5'], [siameseArgs, 'out/siamese']] as const) {
      const code = await runBuild([...args, '-o', join(dir, out)]);
      if (code !== 0) throw new Error(`cnnc build ${args.join(' ')} exited ${code}`);
    }
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has TypeScript examples that type-check against the modules `cnnc build` writes', () => {
    const examples = blocks('ts');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const files = examples.map((text, i) => {
      const file = `example-${i + 1}.ts`;
      writeFileSync(join(dir, file), `${IN_HAND}${text}`);
      return file;
    });
    // `cnnc/runtime` as its sources declare it (the packed declarations are checked in test/package).
    const paths = { 'cnnc/runtime': [join(REPO, 'runtime/bundle/index.ts')] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { paths, noUnusedLocals: false }, include: [], files }));
    const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
