// PNG encoding of CHW float images (1 or 3 channels) for the commands that write pictures.

import pngjs from 'pngjs';

export interface ChwImage {
  /** CHW, values in [0, max] (clamped and rounded when written). */
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** PNG bytes (RGBA, opaque) of a 1- or 3-channel image whose values span [0, max]. */
export function encodePng(img: ChwImage, max = 1): Uint8Array {
  const { data, channels, height, width } = img;
  if (channels !== 1 && channels !== 3) throw new RangeError(`a PNG needs 1 or 3 channels, the image has ${channels}`);
  const png = new pngjs.PNG({ width, height });
  const plane = height * width;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = data[(channels === 1 ? 0 : c) * plane + i]!;
      png.data[i * 4 + c] = Math.round(Math.min(1, Math.max(0, v / max)) * 255);
    }
    png.data[i * 4 + 3] = 255;
  }
  return new Uint8Array(pngjs.PNG.sync.write(png));
}
