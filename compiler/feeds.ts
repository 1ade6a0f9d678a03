// What a model reads with each batch (its feeds): its non-trainable inputs and the targets of its
// loss terms, with per-example shapes in PyTorch layout. Training, inference and bundles all bind
// data to this list.

import type { LossTerm, ModelGraph } from './graph.ts';
import { irShape } from './lower/layout.ts';

/** A tensor the model reads with every batch. */
export interface ModelFeed {
  /** The program's feed name: the input's name, or the loss target's (`labels`, `targets`, `targets:landmarks`). */
  readonly name: string;
  readonly role: 'input' | 'target';
  /** Per-example shape in PyTorch layout ([C, H, W], [] for a class index). */
  readonly shape: readonly number[];
  readonly dtype: 'f32' | 'i32';
  /** For class-index targets: how many classes the model predicts. */
  readonly classes?: number;
  /** For the user: `input 'image'`, `target 'labels' of cross_entropy(y)`. */
  readonly what: string;
}

/** The course's notation of a per-example PyTorch-layout shape: [3, 64, 64] is `64 x 64 x 3`. */
export function courseShape(shape: readonly number[]): string {
  if (shape.length === 0) return 'a scalar';
  if (shape.length === 1) return String(shape[0]);
  return [...shape.slice(1), shape[0]].join(' x ');
}

/** The label of a loss term for people: `binary_cross_entropy(face)`. */
export function termLabel(term: LossTerm): string {
  return `${term.fn}(${term.args.join(', ')})`;
}

/** Every feed of a model, inputs first, then loss targets in the order of its terms. */
export function modelFeeds(graph: ModelGraph): ModelFeed[] {
  const feeds: ModelFeed[] = [];
  for (const input of graph.inputs) {
    if (input.trainable) continue;
    feeds.push({ name: input.name, role: 'input', shape: irShape(input.shape, 1).slice(1), dtype: 'f32', what: `input '${input.name}'` });
  }
  for (const term of graph.loss) {
    const target = term.target;
    if (!target || feeds.some((f) => f.name === target.name)) continue;
    const classes = target.dtype === 'i32' ? graph.layers.find((l) => l.name === term.args[0])?.shape[0] : undefined;
    feeds.push({
      name: target.name,
      role: 'target',
      shape: irShape(target.shape, 1).slice(1),
      dtype: target.dtype,
      ...(classes !== undefined ? { classes } : {}),
      what: `target '${target.name}' of ${termLabel(term)}`,
    });
  }
  return feeds;
}
