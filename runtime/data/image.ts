// Decoding PNG/JPEG files and fitting them to a requested H x W x C as CHW floats in [0, 1].

import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { fitCenter } from './augment.ts';
import { DataError } from './dataset.ts';

/** Decoded pixels, RGBA 8-bit, row-major. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** The decoders' messages for a cut-off file ("read requests waiting on finished stream") in plain words. */
function decodeProblem(message: string): string {
  if (/finished stream|end of (file|data|stream)|unexpected end|out of bounds|offset is outside/i.test(message)) return 'the file is truncated or damaged';
  return message;
}

/** Decodes PNG or JPEG bytes (chosen by content, not name). Errors name the file. */
export function decodeImage(bytes: Uint8Array, source: string): Rgba {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new DataError(`${source}: cannot decode ${isPng ? 'PNG' : 'JPEG'} image: ${decodeProblem((e as Error).message)}`);
  }
  throw new DataError(`${source}: not a PNG or JPEG image (starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
}

/**
 * Scales the image so it covers height x width (keeping its aspect ratio), crops the centre, and converts to
 * `channels` (1: luma 0.299R + 0.587G + 0.114B; 3: RGB; 4: RGBA). Bilinear sampling. Returns CHW floats in [0, 1].
 */
export function fitImage(source: Rgba, height: number, width: number, channels: 1 | 3 | 4): Float32Array {
  if (source.width === 0 || source.height === 0) throw new DataError('image has zero size');
  // Shrinking a lot by bilinear sampling alone aliases (it reads 4 pixels out of many): average k x k blocks first.
  const k = Math.floor(Math.min(source.height / height, source.width / width));
  const img = k >= 2 ? boxShrink(source, k) : source;
  const scale = Math.max(height / img.height, width / img.width);
  // Centre the output window in the scaled image.
  const offX = (img.width * scale - width) / 2;
  const offY = (img.height * scale - height) / 2;
  const plane = height * width;
  const out = new Float32Array(channels * plane);
  const src = img.data;
  const rgba = new Float32Array(4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.max((y + offY + 0.5) / scale - 0.5, 0), img.height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(Math.max((x + offX + 0.5) / scale - 0.5, 0), img.width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const fx = sx - x0;
      for (let c = 0; c < 4; c++) {
        const a = src[(y0 * img.width + x0) * 4 + c];
        const b = src[(y0 * img.width + x1) * 4 + c];
        const d = src[(y1 * img.width + x0) * 4 + c];
        const e = src[(y1 * img.width + x1) * 4 + c];
        rgba[c] = ((a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy) / 255;
      }
      const at = y * width + x;
      if (channels === 1) {
        out[at] = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2];
      } else {
        for (let c = 0; c < channels; c++) out[c * plane + at] = rgba[c];
      }
    }
  }
  return out;
}

/** Averages k x k blocks (edge blocks may be smaller). */
export function boxShrink(img: Rgba, k: number): Rgba {
  const w = Math.ceil(img.width / k);
  const h = Math.ceil(img.height / k);
  const sums = new Float64Array(w * h * 4);
  const counts = new Float64Array(w * h);
  for (let y = 0; y < img.height; y++) {
    const row = Math.floor(y / k) * w;
    for (let x = 0; x < img.width; x++) {
      const o = row + Math.floor(x / k);
      counts[o]++;
      for (let c = 0; c < 4; c++) sums[o * 4 + c] += img.data[(y * img.width + x) * 4 + c];
    }
  }
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 4; c++) data[i * 4 + c] = Math.round(sums[i * 4 + c] / counts[i]);
  return { width: w, height: h, data };
}

/**
 * An image as the model saw its training data: a small image (28x28 Fashion-MNIST) is centred and
 * zero-padded as training's `fit` did; a larger one (a photo) is scaled to cover and centre-cropped.
 */
export function imageForModel(rgba: Rgba, height: number, width: number, channels: 1 | 3 | 4): Float32Array {
  if (rgba.height > height || rgba.width > width) return fitImage(rgba, height, width, channels);
  return fitCenter(fitImage(rgba, rgba.height, rgba.width, channels), [channels, rgba.height, rgba.width], height, width);
}
