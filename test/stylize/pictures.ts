// Inputs for the style-transfer tests: a reduced-width VGG-19 style-transfer model at 64x64 with
// random weights, a content picture (a disc on a gradient) and a style picture (diagonal stripes).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { encodePng, type ChwImage } from '../../runtime/images/png.ts';
import { writeRandomWeights } from '../support/random-weights.ts';

export const SIZE = 64;
export const STYLE_SETS = ['filters=4'];
export const STYLE_OVERRIDES = { height: SIZE, width: SIZE, filters: 4 };

export function styleGraph(size = SIZE): ModelGraph {
  const r = compileModel({ file: 'stdlib/style_transfer.cnn', overrides: { ...STYLE_OVERRIDES, height: size, width: size } });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
}

function picture(size: number, f: (y: number, x: number) => [number, number, number]): ChwImage {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) f(y, x).forEach((v, c) => (data[c * plane + y * size + x] = v));
  }
  return { data, channels: 3, height: size, width: size };
}

/** The content picture (a disc on a gradient) and the style picture (stripes), size x size. */
export function picturesOf(size: number): { content: ChwImage; style: ChwImage } {
  const content = picture(size, (y, x) => [Math.hypot(x - size / 2, y - size / 2) < (size * 9) / 32 ? 0.9 : 0.2, y / size, x / size]);
  const style = picture(size, (y, x) => {
    const stripe = ((x + y) >> 3) & 1;
    return [stripe ? 0.9 : 0.1, stripe ? 0.3 : 0.7, 0.5 + 0.4 * Math.sin(x / 3)];
  });
  return { content, style };
}

export const { content: CONTENT, style: STYLE } = picturesOf(SIZE);

/** Writes content.png, style.png and weights.safetensors (random init, seed 1) into `dir`. */
export function writeStyleInputs(dir: string, graph: ModelGraph = styleGraph()): { content: string; style: string; weights: string } {
  const paths = { content: join(dir, 'content.png'), style: join(dir, 'style.png'), weights: join(dir, 'weights.safetensors') };
  writeFileSync(paths.content, encodePng(CONTENT));
  writeFileSync(paths.style, encodePng(STYLE));
  writeRandomWeights(graph, 1, paths.weights);
  return paths;
}
