// The stage order of docs/architecture.md, held against the import graph: a folder imports only
// folders earlier in the order (or itself), so the front end builds without the compiler and the
// compiler without the runtime. Imports are read with TypeScript's parser, so type-only imports,
// re-exports and dynamic `import()` are all seen, and import-like text inside strings is not.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

/** The product's folders in stage order; folders in one entry are peers and do not import each other. */
const STAGES: readonly (readonly string[])[] = [['grammar'], ['compiler'], ['runtime'], ['lsp'], ['playground'], ['cli', 'plugins']];

/** Development folders: they may import any stage, and no stage imports them. */
const TOOLING = new Set(['bench', 'bin', 'editors', 'scripts', 'test']);

/** Folders that are never read: dependencies, build output, scratch. */
const SKIPPED = new Set(['node_modules', 'dist', 'out', 'tmp']);

/**
 * The one sanctioned import against the order: the compiler writes bundle plans in the runtime's
 * plan types (its contract), as types only, so no runtime code is loaded by the compiler.
 */
const CONTRACTS: readonly { readonly from: string; readonly to: string }[] = [
  { from: 'compiler/emit-ts/', to: 'runtime/bundle/plan.ts' },
  { from: 'compiler/emit-ts/', to: 'runtime/webgpu/plan.ts' },
  { from: 'compiler/emit-ts/', to: 'runtime/wasm/plan.ts' },
];

interface Import {
  readonly file: string;
  readonly target: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every relative import in `text`, with whether it is erased at run time. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const add = (specifier: ts.Node | undefined, typeOnly: boolean): void => {
    if (!specifier || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith('.')) return;
    found.push({ file, target: resolve(dirname(file), specifier.text), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const topFolder = (path: string): string => relative(REPO, path).split(/[\\/]/)[0] ?? '';

/** Where a folder sits: its stage index, 'tooling', or undefined for a folder nobody placed. */
function placeOf(folder: string): number | 'tooling' | undefined {
  if (TOOLING.has(folder)) return 'tooling';
  const stage = STAGES.findIndex((folders) => folders.includes(folder));
  return stage < 0 ? undefined : stage;
}

/** Why `imp` breaks the order, or undefined if it does not. */
function violation(imp: Import): string | undefined {
  const from = topFolder(imp.file);
  const to = topFolder(imp.target);
  if (from === to) return undefined;
  const source = placeOf(from);
  const target = placeOf(to);
  const where = `${relative(REPO, imp.file)} imports ${relative(REPO, imp.target)}`;
  if (source === undefined) return `${where}: folder ${from}/ has no place in the stage order`;
  if (source === 'tooling') return undefined;
  if (target === 'tooling') return `${where}: the product imports development code`;
  if (target === undefined || target < source) return undefined;
  const contract = CONTRACTS.some((c) => relative(REPO, imp.file).startsWith(c.from) && relative(REPO, imp.target) === c.to);
  if (contract && imp.typeOnly) return undefined;
  return `${where}: ${to}/ comes ${target === source ? 'beside' : 'after'} ${from}/ in the stage order`;
}

describe('stage order', () => {
  const files = readdirSync(REPO, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SKIPPED.has(e.name))
    .flatMap((e) => sourceFiles(join(REPO, e.name)));
  const imports = files.flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

  it('reads the whole repository', () => {
    // A broken walk would pass vacuously: the front end alone has a dozen files and the compiler imports it.
    expect(files.length).toBeGreaterThan(300);
    expect(imports.some((i) => topFolder(i.file) === 'compiler' && topFolder(i.target) === 'grammar')).toBe(true);
  });

  it('no folder imports a later stage, a peer or development code', () => {
    expect(imports.map(violation).filter((v) => v !== undefined)).toEqual([]);
  });

  it('every stage docs/architecture.md names in its order is the one held here', () => {
    const doc = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
    const line = /^Stage order: (.*)$/m.exec(doc)?.[1];
    expect(line).toBe(STAGES.map((folders) => folders.map((f) => `${f}/`).join(', ')).join(' -> '));
  });
});

describe('the rule itself', () => {
  const at = (path: string): string => join(REPO, path);
  const check = (file: string, text: string): (string | undefined)[] => importsOf(at(file), text).map(violation);

  it('rejects the front end importing the compiler, in every form of import', () => {
    const text = [
      "import { a } from '../compiler/x.ts';",
      "import type { B } from '../compiler/x.ts';",
      "export { c } from '../compiler/x.ts';",
      "const d = await import('../compiler/x.ts');",
      "let e: import('../compiler/x.ts').E;",
    ].join('\n');
    const found = check('grammar/y.ts', text);
    expect(found).toHaveLength(5);
    for (const v of found) expect(v).toBe('grammar/y.ts imports compiler/x.ts: compiler/ comes after grammar/ in the stage order');
  });

  it('accepts imports down the stages and within a folder, and ignores import-like strings', () => {
    expect(check('runtime/y.ts', "import { a } from '../compiler/x.ts';\nimport { b } from './z.ts';\nconst s = \"import { c } from '../cli/q.ts'\";")).toEqual([undefined, undefined]);
  });

  it('rejects peers, development code and unplaced folders', () => {
    expect(check('plugins/y.ts', "import { a } from '../cli/x.ts';")[0]).toMatch(/cli\/ comes beside plugins\//);
    expect(check('compiler/y.ts', "import { a } from '../test/support/x.ts';")[0]).toMatch(/the product imports development code/);
    expect(check('newfolder/y.ts', "import { a } from '../compiler/x.ts';")[0]).toMatch(/folder newfolder\/ has no place/);
  });

  it('allows the runtime plan contract to the compiler as types only', () => {
    expect(check('compiler/emit-ts/y.ts', "import type { ProgramPlan } from '../../runtime/bundle/plan.ts';")).toEqual([undefined]);
    expect(check('compiler/emit-ts/y.ts', "import { type ProgramPlan } from '../../runtime/bundle/plan.ts';")[0]).toMatch(/runtime\/ comes after compiler\//);
    expect(check('compiler/lower/y.ts', "import type { ProgramPlan } from '../../runtime/bundle/plan.ts';")[0]).toMatch(/runtime\/ comes after compiler\//);
  });
});
