// Tiles images into one picture (rows of cells with gaps), for the commands that show many small
// images at once: augmented examples, the patches that excite a unit, filters.

import type { ChwImage } from './png.ts';

export interface GridOptions {
  readonly columns: number;
  /** Pixels between cells, after scaling (default 2). */
  readonly gap?: number;
  /** Integer upscaling of every image, nearest neighbour (default 1). */
  readonly scale?: number;
  /** Value of the gaps and of empty cell space (default 1: white on [0, 1] images). */
  readonly background?: number;
}

/** Cells are as large as the largest image; smaller images sit at their cell's top-left. */
export function tileImages(images: readonly ChwImage[], options: GridOptions): ChwImage {
  const { columns, gap = 2, scale = 1, background = 1 } = options;
  if (images.length === 0) throw new RangeError('no images to tile');
  const channels = Math.max(...images.map((i) => i.channels));
  const cellH = Math.max(...images.map((i) => i.height)) * scale;
  const cellW = Math.max(...images.map((i) => i.width)) * scale;
  const rows = Math.ceil(images.length / columns);
  const height = rows * cellH + (rows + 1) * gap;
  const width = columns * cellW + (columns + 1) * gap;
  const data = new Float32Array(channels * height * width).fill(background);
  images.forEach((img, k) => {
    const top = gap + Math.floor(k / columns) * (cellH + gap);
    const left = gap + (k % columns) * (cellW + gap);
    for (let c = 0; c < channels; c++) {
      // A grey image fills every channel of a colour grid.
      const src = (img.channels === 1 ? 0 : c) * img.height * img.width;
      for (let y = 0; y < img.height * scale; y++) {
        for (let x = 0; x < img.width * scale; x++) {
          data[(c * height + top + y) * width + left + x] = img.data[src + Math.floor(y / scale) * img.width + Math.floor(x / scale)]!;
        }
      }
    }
  });
  return { data, channels, height, width };
}

/** The integer upscaling that makes a cell at least `target` pixels on its longer side. */
export function upscaleFor(height: number, width: number, target: number): number {
  return Math.max(1, Math.floor(target / Math.max(height, width)));
}
