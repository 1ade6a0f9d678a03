// How a model's image input encodes pixels. Style transfer optimises pixels (0..255, as the course
// does, so its learning rate of 2.0 means two grey levels) and feeds the model their encoding,
// x = scale[c] * p + shift[c] per channel.

export type PixelEncoding = 'imagenet' | 'caffe' | 'unit';
export const PIXEL_ENCODINGS: readonly PixelEncoding[] = ['imagenet', 'caffe', 'unit'];

/** The largest pixel value: images are optimised in [0, PIXEL_MAX]. */
export const PIXEL_MAX = 255;

export interface ChannelAffine {
  readonly scale: readonly number[];
  readonly shift: readonly number[];
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
/** The mean pixel of the original VGG release (RGB, 0..255), as the course's VGG-19 subtracts it. */
const CAFFE_MEAN = [123.68, 116.779, 103.939];

/** Per channel of an RGB image (channels beyond the third repeat the last). */
export function encodingOf(kind: PixelEncoding, channels: number): ChannelAffine {
  const pick = (values: readonly number[], c: number): number => values[Math.min(c, values.length - 1)]!;
  const range = Array.from({ length: channels }, (_, c) => c);
  switch (kind) {
    case 'imagenet': // torchvision: (p / 255 - mean) / std
      return { scale: range.map((c) => 1 / (PIXEL_MAX * pick(IMAGENET_STD, c))), shift: range.map((c) => -pick(IMAGENET_MEAN, c) / pick(IMAGENET_STD, c)) };
    case 'caffe': // p - mean, in 0..255
      return { scale: range.map(() => 1), shift: range.map((c) => -pick(CAFFE_MEAN, c)) };
    case 'unit':
      return { scale: range.map(() => 1 / PIXEL_MAX), shift: range.map(() => 0) };
  }
}

/** Pixels (CHW, 0..255) to the model's input values. */
export function encodePixels(pixels: Float32Array, channels: number, enc: ChannelAffine): Float32Array {
  const plane = pixels.length / channels;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const c = Math.floor(i / plane);
    out[i] = enc.scale[c]! * pixels[i]! + enc.shift[c]!;
  }
  return out;
}

/** A gradient with respect to the model's input, as a gradient with respect to the pixels (in place). */
export function gradToPixels(grad: Float32Array, channels: number, enc: ChannelAffine): Float32Array {
  const plane = grad.length / channels;
  for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * enc.scale[Math.floor(i / plane)]!;
  return grad;
}
