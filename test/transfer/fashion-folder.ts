// Writes a small image-folder data set of Fashion-MNIST PNGs (one sub-folder per class), for
// transfer-learning tests that need real images in the folder:PATH form users have.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import type { Dataset } from '../../runtime/data/dataset.ts';

/**
 * Writes up to `perClass` examples of each class in `classes` (Fashion-MNIST indices) from
 * `source`, scanning examples from..to-1, as 8-bit grey PNGs under root/<class name>/.
 */
export function writeFashionFolder(root: string, source: Dataset, classes: readonly number[], perClass: number, from: number, to: number): number {
  const [, h, w] = source.shape;
  const names = classes.map((c) => (source.classNames?.[c] ?? `class${c}`).replace(/[^A-Za-z0-9]/g, '_'));
  const counts = new Map<number, number>(classes.map((c) => [c, 0]));
  let written = 0;
  for (let i = from; i < to; i++) {
    const e = source.get(i);
    const k = classes.indexOf(e.label);
    if (k < 0 || counts.get(e.label)! >= perClass) continue;
    const png = new pngjs.PNG({ width: w, height: h });
    for (let p = 0; p < h * w; p++) {
      const v = Math.round(e.image[p] * 255);
      png.data[p * 4] = png.data[p * 4 + 1] = png.data[p * 4 + 2] = v;
      png.data[p * 4 + 3] = 255;
    }
    const dir = join(root, names[k]);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${i}.png`), pngjs.PNG.sync.write(png));
    counts.set(e.label, counts.get(e.label)! + 1);
    written++;
  }
  return written;
}
