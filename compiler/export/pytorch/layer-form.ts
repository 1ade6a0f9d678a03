// What a layer definition's PyTorch form (`pytorch`) gets and gives: model.py's expressions for
// the layer's inputs and module in, the module it owns and its value out; and the small helpers
// several layers' forms share.

import type { LayerNode, Shape } from '../../graph.ts';

export interface TorchLayer {
  readonly layer: LayerNode;
  /** The first input's value expression: `v['x']`. */
  readonly x: string;
  /** Every input's value expression, in argument order. */
  readonly inputs: readonly string[];
  /** The layer's (its parameters' owner's) module: `self.stem.conv1`. */
  readonly m: string;
  /** A Python literal: strings quoted, booleans True/False, arrays as tuples. */
  py(value: unknown): string;
}

export interface TorchForm {
  /** The module's constructor, when the layer owns parameters: `nn.Conv2d(...)`. */
  readonly module?: string;
  /** The value expression. */
  readonly value: string;
}

/** torch.nn.functional's pad argument: last axis first. */
export function torchPad(before: readonly number[], after: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = before.length - 1; i >= 0; i--) out.push(before[i]!, after[i]!);
  return out;
}

export const samePads = (a: readonly number[], b: readonly number[]): boolean => a.every((x, i) => x === b[i]);
export const channelsOf = (shape: Shape): number => shape[shape.length - 1]!;
