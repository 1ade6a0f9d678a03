// Types for `import model from './net.cnn'` (the cnnc Vite and esbuild plugins). Reference this
// file from a tsconfig's `types`/`include`, or with `/// <reference path=".../cnn-module.d.ts" />`.

declare module '*.cnn' {
  /** The model's name (`LeNet5`). */
  export const name: string;
  /** What `cnnc summary --json` prints: layers with shapes, parameters, MACs; totals. */
  export const summary: import('../compiler/summary.ts').ModelSummary;
  /** The checked layer graph; source paths relative to the build's root. */
  export const graph: import('../compiler/graph.ts').ModelGraph;
  /** Warnings of the build (errors fail it). */
  export const diagnostics: readonly import('../compiler/diagnostics.ts').Diagnostic[];
  const model: { readonly name: string; readonly summary: typeof summary; readonly graph: typeof graph; readonly diagnostics: typeof diagnostics };
  export default model;
}
