// Vite plugin: `import model from './net.cnn'` compiles the model at build time (and in the dev
// server). Vite stops on one error, so the error lists every diagnostic in `cnnc check`'s
// `file:line:col: error: message` form, with the first one's location and code frame; warnings
// go to Vite's log. Imported .cnn files are watched, and in the dev server an edit to one rebuilds
// the .cnn modules that import it. Usage, in vite.config.ts:
//   export default defineConfig({ plugins: [cnncVite()] });

import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';
import { cnnModuleSource, formatBuildMessage, type CnnBuildMessage, type CnnModuleOptions } from './module-source.ts';

export type CnncViteOptions = Omit<CnnModuleOptions, 'readText'>;

/** Rollup's location: line 1-based, column 0-based. */
function loc(m: CnnBuildMessage): { file: string; line: number; column: number } {
  return { file: m.location.file, line: m.location.line, column: m.location.column - 1 };
}

/** The source line with the span underlined, as Vite shows under an error. */
function frame(m: CnnBuildMessage): string {
  const { line, column, length, lineText } = m.location;
  const gutter = `${line} | `;
  return `${gutter}${lineText}\n${' '.repeat(gutter.length + column - 1)}${'^'.repeat(Math.max(1, length))}`;
}

export function cnncVite(options: CnncViteOptions = {}): Plugin {
  let root = options.root ?? process.cwd();
  // Imported .cnn file -> the .cnn modules built from it. Vite's dev server does not tie a load
  // hook's watch files to the module (its import analysis skips non-JS ids), so hotUpdate does.
  const dependents = new Map<string, Set<string>>();
  return {
    name: 'cnnc',
    enforce: 'pre',
    configResolved(config) {
      root = options.root ?? config.root;
    },
    async load(id) {
      const file = id.replace(/[?#].*$/, '');
      if (!file.endsWith('.cnn')) return null;
      const out = cnnModuleSource(file, await readFile(file, 'utf8'), { ...options, root });
      for (const watched of out.watchFiles) {
        if (watched === file) continue;
        this.addWatchFile(watched);
        dependents.set(watched, (dependents.get(watched) ?? new Set()).add(file));
      }
      for (const w of out.warnings) this.warn({ message: formatBuildMessage(w, 'warning'), loc: loc(w), frame: frame(w) });
      const first = out.errors[0];
      if (first !== undefined || out.code === undefined) {
        const message = out.errors.map((e) => formatBuildMessage(e, 'error')).join('\n') || `${file}: no module was produced`;
        this.error({ message, ...(first ? { loc: loc(first), frame: frame(first) } : {}), watchFiles: [...out.watchFiles] });
      }
      return { code: out.code, map: null, moduleType: 'js' };
    },
    hotUpdate({ file, modules }) {
      const users = dependents.get(file);
      if (users === undefined) return;
      const graph = this.environment.moduleGraph;
      const rebuilt = [...users].flatMap((user) => [...(graph.getModulesByFile(user) ?? [])]);
      for (const m of rebuilt) graph.invalidateModule(m);
      return [...modules, ...rebuilt];
    },
  };
}
