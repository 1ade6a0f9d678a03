// The convolutional implementation of sliding windows, read back as boxes: each output position
// of a fully convolutional classifier scores one window of the input. A window's place follows from
// the layers: its size is the receptive field, its step the product of the strides, its start
// shifted by the padding.

import type { ModelGraph } from '../../compiler/graph.ts';
import type { Detection } from './boxes.ts';

/** Per spatial axis (y, x): window size, step between windows, offset of window 0 (input pixels). */
export interface WindowGeometry {
  readonly size: readonly [number, number];
  readonly step: readonly [number, number];
  readonly offset: readonly [number, number];
}

/** The window geometry of `layer`'s output positions; undefined when a layer in the way is not spatial. */
export function windowGeometry(graph: ModelGraph, layer: string): WindowGeometry | undefined {
  type G = { size: [number, number]; step: [number, number]; offset: [number, number] };
  const at = new Map<string, G>();
  for (const i of graph.inputs) at.set(i.name, { size: [1, 1], step: [1, 1], offset: [0, 0] });
  for (const l of graph.layers) {
    const g = at.get(l.inputs[0] ?? '');
    if (!g) continue;
    const a = l.attrs;
    if (a.op === 'conv' || a.op === 'maxpool' || a.op === 'avgpool') {
      if (a.rank !== 2) continue;
      const dil = a.op === 'conv' ? a.dilation : [1, 1];
      const next: G = { size: [0, 0], step: [0, 0], offset: [0, 0] };
      for (const k of [0, 1] as const) {
        next.size[k] = g.size[k] + (a.kernel[k]! - 1) * dil[k]! * g.step[k];
        next.offset[k] = g.offset[k] - a.padBefore[k]! * g.step[k];
        next.step[k] = g.step[k] * a.stride[k]!;
      }
      at.set(l.name, next);
    } else if (l.shape.length === 3 && ['relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax', 'linear', 'batchnorm', 'dropout'].includes(a.op)) {
      at.set(l.name, g);
    }
  }
  return at.get(layer);
}

/**
 * Windows whose best class scores at least `score` as boxes in input pixels. `scores` is one
 * image's output [C, H, W] of class probabilities; class `background` (if given) never makes a box.
 */
export function windowDetections(scores: Float32Array, shape: readonly [number, number, number], g: WindowGeometry, score: number, background: number | undefined): Detection[] {
  const [classes, h, w] = shape;
  const out: Detection[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = -1;
      let bestScore = -Infinity;
      for (let c = 0; c < classes; c++) {
        if (c === background) continue;
        const v = scores[(c * h + y) * w + x]!;
        if (v > bestScore) [best, bestScore] = [c, v];
      }
      if (best < 0 || bestScore < score) continue;
      const x1 = g.offset[1] + x * g.step[1];
      const y1 = g.offset[0] + y * g.step[0];
      out.push({ x1, y1, x2: x1 + g.size[1], y2: y1 + g.size[0], classId: best, score: bestScore });
    }
  }
  return out;
}
