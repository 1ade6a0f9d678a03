// Page module: a .cnn file imported as a module, as an app bundled with cnnc's esbuild plugin does.

/// <reference path="../../../plugins/cnn-module.d.ts" />
import lenet, { summary } from '../../../stdlib/lenet5.cnn';

export interface ImportReport {
  readonly name: string;
  readonly params: number;
  readonly layers: readonly string[];
}

export default function importCnn(): ImportReport {
  return { name: lenet.name, params: summary.totals.params, layers: lenet.graph.layers.map((l) => l.name) };
}
