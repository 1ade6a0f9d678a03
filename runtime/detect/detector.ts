// What a model with a `yolo` loss says about detection: its image input, the layer the loss reads
// (the grid output), the grid size, anchors and classes. Training targets and decoding both follow it.

import { YAD2K_COCO_ANCHORS } from '../../compiler/checker/loss.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import type { YoloHead } from './decode.ts';

export interface Detector {
  readonly input: string;
  /** The input in PyTorch layout [C, H, W]. */
  readonly inputShape: readonly [number, number, number];
  /** The layer the yolo loss reads: S x S x A(5 + C). */
  readonly output: string;
  readonly grid: { readonly height: number; readonly width: number };
  readonly head: YoloHead;
}

/** The detector a graph declares through its yolo loss term, or undefined for other models. */
export function detectorOf(graph: ModelGraph): Detector | undefined {
  const term = graph.loss.find((t) => t.fn === 'yolo');
  const input = graph.inputs.find((i) => !i.trainable);
  if (!term || !input || input.shape.length !== 3) return undefined;
  const [h, w, c] = input.shape as [number, number, number];
  const [gh, gw] = term.argShapes[0]! as [number, number, number];
  return {
    input: input.name,
    inputShape: [c, h, w],
    output: term.args[0]!,
    grid: { height: gh, width: gw },
    head: { anchors: term.lists?.anchors ?? YAD2K_COCO_ANCHORS, classes: term.options.classes ?? 80 },
  };
}
