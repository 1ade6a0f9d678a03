// `cnnc predict --draw DIR` for landmark models: each input image with its predicted points, as PNG.

import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { ModelGraph } from '../compiler/graph.ts';
import { drawPoints } from '../runtime/detect/landmarks.ts';
import { readImageFile } from '../runtime/data/image-file.ts';
import { UsageError, writeFileAtomic } from './io.ts';

/**
 * The model's point output: its one output that is a vector of (x, y) pairs (Landmarks' 64 points
 * beside its face probability).
 */
function pointOutput(graph: ModelGraph, outputs: ReadonlyMap<string, { shape: number[] }>): string {
  const candidates = [...outputs].filter(([, o]) => o.shape.length === 2 && o.shape[1]! >= 2 && o.shape[1]! % 2 === 0).map(([name]) => name);
  if (candidates.length !== 1) throw new UsageError(`--draw needs one output of (x, y) points; ${graph.name} has ${candidates.length === 0 ? 'none' : candidates.join(', ')}`);
  return candidates[0]!;
}

export function writePointImages(dir: string, graph: ModelGraph, files: readonly string[], outputs: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
  const name = pointOutput(graph, outputs);
  const { shape, data } = outputs.get(name)!;
  const input = graph.inputs.find((i) => !i.trainable)!;
  const [height, width] = input.shape as [number, number];
  mkdirSync(dir, { recursive: true });
  files.forEach((file, i) => {
    const img = readImageFile(file);
    // As the image was fitted for the model: scaled to cover the input when larger, else as it is; then centred.
    const scale = img.height > height || img.width > width ? Math.max(height / img.height, width / img.width) : 1;
    const points = data.subarray(i * shape[1]!, (i + 1) * shape[1]!);
    writeFileAtomic(join(dir, `${basename(file, extname(file))}.png`), drawPoints(img, points, { width, height, scale }).png());
  });
  process.stderr.write(`cnnc predict: ${files.length} image(s) with the points of ${name} drawn in ${dir}\n`);
}
