// esbuild plugin: `import model from './net.cnn'` compiles the model at build time. Diagnostics
// become esbuild errors and warnings at their file:line:col (with the source line and the hint as
// a note); imported .cnn files are watched in watch mode. Usage:
//   await esbuild.build({ entryPoints: ['app.ts'], bundle: true, plugins: [cnncEsbuild()] });

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PartialMessage, Plugin } from 'esbuild';
import { cnnModuleSource, type CnnBuildMessage, type CnnModuleOptions } from './module-source.ts';

export type CnncEsbuildOptions = Omit<CnnModuleOptions, 'readText'>;

/** A cnnc diagnostic as esbuild reports it (esbuild's columns are 0-based). */
function toEsbuild(m: CnnBuildMessage): PartialMessage {
  const { file, line, column, length, lineText } = m.location;
  return {
    text: m.text,
    location: { file, line, column: column - 1, length, lineText },
    notes: m.hint ? [{ text: `hint: ${m.hint}` }] : [],
  };
}


export function cnncEsbuild(options: CnncEsbuildOptions = {}): Plugin {
  return {
    name: 'cnnc',
    setup(build) {
      const root = options.root ?? build.initialOptions.absWorkingDir ?? process.cwd();
      build.onLoad({ filter: /\.cnn$/, namespace: 'file' }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const out = cnnModuleSource(args.path, text, { ...options, root });
        return {
          contents: out.code ?? '',
          loader: 'js',
          resolveDir: dirname(args.path),
          errors: out.errors.map(toEsbuild),
          warnings: out.warnings.map(toEsbuild),
          watchFiles: [...out.watchFiles],
        };
      });
    },
  };
}
