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

export function styleGraph(): ModelGraph {
  const r = compileModel({ file: 'stdlib/style_transfer.cnn', overrides: STYLE_OVERRIDES });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
}

function picture(f: (y: number, x: number) => [number, number, number]): ChwImage {
  const plane = SIZE * SIZE;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) f(y, x).forEach((v, c) => (data[c * plane + y * SIZE + x] = v));
  }
  return { data, channels: 3, height: SIZE, width: SIZE };
}

export const CONTENT = picture((y, x) => [Math.hypot(x - 32, y - 32) < 18 ? 0.9 : 0.2, y / SIZE, x / SIZE]);
export const STYLE = picture((y, x) => {
  const stripe = ((x + y) >> 3) & 1;
  return [stripe ? 0.9 : 0.1, stripe ? 0.3 : 0.7, 0.5 + 0.4 * Math.sin(x / 3)];
});

/** Writes content.png, style.png and weights.safetensors (random init, seed 1) into `dir`. */
export function writeStyleInputs(dir: string, graph: ModelGraph = styleGraph()): { content: string; style: string; weights: string } {
  const paths = { content: join(dir, 'content.png'), style: join(dir, 'style.png'), weights: join(dir, 'weights.safetensors') };
  writeFileSync(paths.content, encodePng(CONTENT));
  writeFileSync(paths.style, encodePng(STYLE));
  writeRandomWeights(graph, 1, paths.weights);
  return paths;
}
