/// <reference types="@webgpu/types" />
// Types for `import model from './net.cnn'` (the cnnc Vite and esbuild plugins). In a project that
// installed cnnc: `/// <reference types="cnnc/cnn-module" />` (or `"types": ["cnnc/cnn-module"]` in
// tsconfig); inside this repository, reference this file by path.

declare module '*.cnn' {
  /** The model's name (`LeNet5`). */
  export const name: string;
  /** What `cnnc summary --json` prints: layers with shapes, parameters, MACs; totals. */
  export const summary: import('../compiler/summary.ts').ModelSummary;
  /** The checked layer graph; source paths relative to the build's root. */
  export const graph: import('../compiler/graph.ts').ModelGraph;
  /** Warnings of the build (errors fail it). */
  export const diagnostics: readonly import('../grammar/diagnostics.ts').Diagnostic[];
  // With the plugins' `bundle` option, the module also carries the training bundle (what `cnnc
  // build` writes, kernels inlined). Without it these exports are absent at run time.
  /** Creates the model, with seeded weights or `options.weights`: on `device`, else the page's WebGPU adapter, else wasm. */
  export function createModel(device?: GPUDevice | null, options?: import('../runtime/bundle/model.ts').ModelOptions): Promise<import('../runtime/bundle/model.ts').BundledModel>;
  /** Examples per training step, evaluation and prediction. */
  export const BATCH: number;
  /** Classifiers only (one image input, a cross_entropy over classes): one example's shape, channels first. */
  export const IMAGE_SHAPE: readonly number[];
  /** Classifiers only: the number of classes. */
  export const CLASSES: number;
  export const MODEL: string;
  /** Weights in PyTorch layout and how they start. */
  export const WEIGHTS: readonly import('../runtime/bundle/plan.ts').WeightSpec[];
  const model: {
    readonly name: string;
    readonly summary: typeof summary;
    readonly graph: typeof graph;
    readonly diagnostics: typeof diagnostics;
    /** With the `bundle` option. */
    readonly createModel: typeof createModel;
  };
  export default model;
}
