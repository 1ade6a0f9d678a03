// Temporary projects for the bundler plugin tests: an entry that imports a .cnn file, and .cnn
// files that are clean, that warn, that fail, and that import another file.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const LENET = join(REPO, 'stdlib/lenet5.cnn');

export interface TempProject {
  readonly root: string;
  /** Writes `text` at `path` (relative to root) and returns the absolute path. */
  write(path: string, text: string): string;
  /** An import specifier for `file` (absolute) from `fromDir` (relative to root), `./x` or `../x`. */
  specifier(file: string, fromDir?: string): string;
  remove(): void;
}

export function tempProject(prefix: string): TempProject {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    write(path, text) {
      const file = join(root, path);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    specifier(file, fromDir = '.') {
      const rel = relative(join(root, fromDir), file).split('\\').join('/');
      return rel.startsWith('.') ? rel : `./${rel}`;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** An entry module re-exporting what the .cnn import gives, so the test can run the build. */
export function entryImporting(specifier: string): string {
  return [
    `import model, { name, summary, graph, diagnostics } from ${JSON.stringify(specifier)};`,
    'export { model, name, summary, graph, diagnostics };',
    '',
  ].join('\n');
}

/** A conv whose output size is fractional: (8 - 3)/2 + 1 = 3.5, a warning at line 3, column 3. */
export const WARNS_CNN = 'model Fractional() {\n  input x: 8 x 8 x 1\n  conv 2, 3x3, stride 2\n  flatten\n  dense 2 -> softmax\n  loss cross_entropy\n}\n';

/** A typo at line 4, column 3 (`cnov`). */
export const BROKEN_CNN = 'model Broken() {\n  input x: 8 x 8 x 1\n  conv 2, 3x3\n  cnov 3\n}\n';

/** A file that imports a block from another file: both are the module's watch files. */
export const BLOCKS_CNN = 'block stage(f)(x) {\n  return x -> conv f, 3x3, pad same -> relu\n}\n';
export const USES_BLOCKS_CNN = 'import "./blocks.cnn"\n\nmodel Staged() {\n  input x: 8 x 8 x 1\n  stage(4)\n  flatten\n  dense 2 -> softmax\n  loss cross_entropy\n}\n';

export type BuiltModule = {
  readonly name: string;
  readonly summary: { readonly model: string; readonly totals: { readonly params: number }; readonly layers: readonly { readonly name: string }[] };
  readonly graph: { readonly name: string; readonly layers: readonly { readonly name: string; readonly span: { readonly file: string } }[] };
  readonly diagnostics: readonly unknown[];
  readonly model: { readonly name: string };
};
