// The JavaScript module that `import model from './net.cnn'` gives, in one function that the Vite
// and esbuild plugins share. It compiles the model and exports its graph and summary; with the
// `bundle` option it also carries the training bundle `cnnc build` writes (kernels inlined,
// `createModel(device)` with train, fit, evaluate, predict and weights), so the plugins need not
// change.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { compileModel, type ReadText } from '../compiler/program.ts';
import { codeOf, messages, type Diagnostic } from '../grammar/diagnostics.ts';
import { summarize } from '../compiler/summary.ts';
import { transformSync } from 'esbuild';
import { BundleBuildError, compileBundle } from '../compiler/emit-ts/bundle-spec.ts';
import { modelModule } from '../compiler/emit-ts/emit-module.ts';
import type { OptimizerConfig } from '../compiler/optim/optimizers.ts';

/** What the module's training bundle is compiled for. */
export interface CnnBundleOptions {
  /** Examples per step. */
  readonly batch: number;
  /** Default: momentum, learning rate 0.01 (as `cnnc build`). */
  readonly optimizer?: OptimizerConfig;
  /** Where the module imports cnnc's runtime from; default `cnnc/runtime`. */
  readonly runtimeImport?: string;
}

export interface CnnModuleOptions {
  /** The model to build; default: the first model declared in the file. */
  readonly model?: string;
  /** Values for the model's parameters, as `cnnc --set k=v` gives them. */
  readonly overrides?: Readonly<Record<string, number>>;
  /**
   * Source paths in the emitted module (graph spans, diagnostics) are written relative to this
   * folder, so builds do not embed the build machine's paths. Default: the .cnn file's folder.
   */
  readonly root?: string;
  /** Reads imported .cnn files; default: the disk. */
  readonly readText?: ReadText;
  /**
   * Also export the training bundle: `createModel(device, options?)`, `BATCH`, `MODEL`, `WEIGHTS`
   * (and `createModel` on the default export); for a classifier also `IMAGE_SHAPE` and `CLASSES`.
   * Any model with a loss bundles; the module then imports `runtimeImport`.
   */
  readonly bundle?: CnnBundleOptions;
}

/** A diagnostic as bundlers report it: esbuild's PartialMessage and Rollup's log both map from it. */
export interface CnnBuildMessage {
  /** `CNN302: cannot add 28x28x256 and 56x56x64 ...` */
  readonly text: string;
  readonly code: string;
  readonly hint?: string;
  readonly location: {
    /** Absolute path of the .cnn file the diagnostic points into. */
    readonly file: string;
    /** 1-based. */
    readonly line: number;
    /** 1-based, as compilers print it (esbuild wants 0-based: subtract one there). */
    readonly column: number;
    /** Characters the span covers on its first line. */
    readonly length: number;
    /** The source line, for the bundler's code frame. */
    readonly lineText: string;
  };
}

export interface CnnModuleSource {
  /** ESM JavaScript. Undefined when there are errors. */
  readonly code?: string;
  readonly errors: readonly CnnBuildMessage[];
  readonly warnings: readonly CnnBuildMessage[];
  /** Every .cnn file the module was built from (the file and its imports), absolute. */
  readonly watchFiles: readonly string[];
}

/** `file:line:col: error: message`, the form `cnnc check` prints, for bundlers' error text. */
export function formatBuildMessage(m: CnnBuildMessage, severity: 'error' | 'warning'): string {
  const head = `${m.location.file}:${m.location.line}:${m.location.column}: ${severity}: ${m.text}`;
  return m.hint ? `${head}\n  hint: ${m.hint}` : head;
}

/** Compiles `file` (whose text is `text`) into the module its importers receive. */
export function cnnModuleSource(file: string, text: string, options: CnnModuleOptions = {}): CnnModuleSource {
  const path = resolve(file);
  const result = compileModel({ file: path, text, model: options.model, overrides: options.overrides, readText: options.readText });
  const watchFiles = [...result.program.files.keys()];
  const texts = new Map<string, string>([[path, text]]);
  const lineAt = (span: Diagnostic['span']): string => {
    const file = resolve(span.file);
    if (!texts.has(file)) texts.set(file, (options.readText ?? readFromDisk)(file) ?? '');
    return texts.get(file)!.split('\n')[span.startLine - 1] ?? '';
  };
  const lineOf = (d: Diagnostic): string => lineAt(d.span);
  const message = (d: Diagnostic): CnnBuildMessage => {
    const lineText = lineOf(d);
    const sameLine = d.span.endLine === d.span.startLine;
    const length = Math.max(0, (sameLine ? d.span.endColumn : lineText.length + 1) - d.span.startColumn);
    return {
      text: `${d.code}: ${d.message}`,
      code: d.code,
      ...(d.hint ? { hint: d.hint } : {}),
      location: { file: resolve(d.span.file), line: d.span.startLine, column: d.span.startColumn, length, lineText: lineText.replace(/\r$/, '') },
    };
  };
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(message);
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map(message);
  if (errors.length > 0) return { errors, warnings, watchFiles };
  if (result.graph === undefined) {
    // The checker reports why a model could not be built; this only guards an empty module.
    const location = { file: path, line: 1, column: 1, length: 0, lineText: text.split('\n')[0] ?? '' };
    const m = messages.unknownModel.notBuilt({ file: path });
    return { errors: [{ text: `${codeOf(m.kind)}: ${m.text}`, code: codeOf(m.kind), location }], warnings, watchFiles };
  }

  const root = options.root ?? dirname(path);
  const portable = <T>(value: T): T => JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'file' && typeof v === 'string' ? relativePath(root, v) : v))) as T;
  const graph = portable(result.graph);
  const summary = summarize(graph);
  const diagnostics = portable(result.diagnostics);
  let bundleCode = '';
  if (options.bundle !== undefined) {
    try {
      const compiled = compileBundle(result.graph, { batch: options.bundle.batch, optimizer: options.bundle.optimizer ?? { kind: 'momentum', lr: 0.01 } });
      const ts = modelModule(result.graph, compiled, { source: relativePath(root, path), runtimeImport: options.bundle.runtimeImport, inlineKernels: true, defaultExport: false });
      bundleCode = transformSync(ts, { loader: 'ts', format: 'esm', target: 'es2022' }).code;
    } catch (error) {
      if (!(error instanceof BundleBuildError)) throw error;
      const span = result.graph.span;
      const location = { file: resolve(span.file), line: span.startLine, column: span.startColumn, length: 0, lineText: lineAt(span).replace(/\r$/, '') };
      return { errors: [{ text: `bundle: cannot compile the training bundle: ${error.message}`, code: 'bundle', location }], warnings, watchFiles };
    }
  }
  const code = [
    `// Generated by cnnc from ${relativePath(root, path).replace(/[\r\n]/g, ' ')}: do not edit.`,
    bundleCode,
    `export const name = ${JSON.stringify(graph.name)};`,
    `export const summary = ${JSON.stringify(summary)};`,
    `export const graph = ${JSON.stringify(graph)};`,
    `export const diagnostics = ${JSON.stringify(diagnostics)};`,
    bundleCode === '' ? 'export default { name, summary, graph, diagnostics };' : 'export default { name, summary, graph, diagnostics, createModel };',
    '',
  ].filter((line) => line !== '').join('\n');
  return { code, errors, warnings, watchFiles };
}

function readFromDisk(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** POSIX-style path of `file` from `root`, or `file` itself when it is not absolute. */
function relativePath(root: string, file: string): string {
  return isAbsolute(file) ? relative(root, file).split(sep).join('/') : file;
}
