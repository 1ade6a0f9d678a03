// The Dataset interface every reader produces, and in-memory datasets built on it.

import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';

/** One example: its image as a Float32Array in CHW order (one slice of an NCHW batch) and its class label. */
export interface Example {
  image: Float32Array;
  label: number;
}

export interface Dataset {
  readonly length: number;
  /** Image shape as [channels, height, width] (PyTorch order; the language writes H x W x C). */
  readonly shape: readonly [number, number, number];
  /** Number of classes; labels are integers in 0..classes-1. */
  readonly classes: number;
  /** Class names where the source has them (image folders), else undefined. */
  readonly classNames?: readonly string[];
  /** Example i (0 <= i < length). The returned image is a fresh array the caller may modify. */
  get(i: number): Example;
}

export class DataError extends UserError {
  override readonly kind: UserErrorKind = 'data';
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.length) throw new RangeError(`example index ${i} is outside 0..${ds.length - 1}`);
}

/**
 * Images held in one typed array, N x C x H x W. Uint8 pixels are scaled to [0, 1]; float pixels are kept as they are.
 */
export class ArrayDataset implements Dataset {
  readonly length: number;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  readonly classNames?: readonly string[];
  readonly pixels: Uint8Array | Float32Array;
  readonly labels: Int32Array;
  private readonly size: number;

  constructor(
    pixels: Uint8Array | Float32Array,
    labels: Int32Array,
    shape: readonly [number, number, number],
    classes?: number,
    classNames?: readonly string[],
  ) {
    this.size = shape[0] * shape[1] * shape[2];
    if (pixels.length !== labels.length * this.size) {
      throw new DataError(`${labels.length} labels need ${labels.length * this.size} pixel values for images of ${shape.join('x')} (CxHxW), got ${pixels.length}`);
    }
    let max = -1;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0) throw new DataError(`label ${labels[i]} of example ${i} is negative`);
      if (labels[i] > max) max = labels[i];
    }
    const k = classes ?? max + 1;
    if (max >= k) throw new DataError(`label ${max} is out of range for ${k} classes`);
    this.pixels = pixels;
    this.labels = labels;
    this.shape = [...shape] as [number, number, number];
    this.length = labels.length;
    this.classes = k;
    this.classNames = classNames;
  }

  get(i: number): Example {
    checkIndex(this, i);
    const from = i * this.size;
    const image = new Float32Array(this.size);
    if (this.pixels instanceof Uint8Array) {
      for (let j = 0; j < this.size; j++) image[j] = this.pixels[from + j] / 255;
    } else {
      image.set(this.pixels.subarray(from, from + this.size));
    }
    return { image, label: this.labels[i] };
  }
}

/** Examples start..end-1 of another data set (a view, no copy). */
export class SubsetDataset implements Dataset {
  readonly length: number;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  readonly classNames?: readonly string[];
  constructor(
    readonly base: Dataset,
    readonly start: number,
    readonly end: number,
  ) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= base.length)) {
      throw new RangeError(`subset ${start}..${end} is outside 0..${base.length}`);
    }
    this.length = end - start;
    this.shape = base.shape;
    this.classes = base.classes;
    this.classNames = base.classNames;
  }

  get(i: number): Example {
    checkIndex(this, i);
    return this.base.get(this.start + i);
  }
}

/** Examples `indices` of another data set (a view, no copy): stratified samples and splits. */
export class PickedDataset implements Dataset {
  readonly length: number;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  readonly classNames?: readonly string[];
  constructor(
    readonly base: Dataset,
    readonly indices: Int32Array,
  ) {
    for (const i of indices) checkIndex(base, i);
    this.length = indices.length;
    this.shape = base.shape;
    this.classes = base.classes;
    this.classNames = base.classNames;
  }

  get(i: number): Example {
    checkIndex(this, i);
    return this.base.get(this.indices[i]!);
  }
}

export function subset(ds: Dataset, start: number, end: number): SubsetDataset {
  return new SubsetDataset(ds, start, end);
}

/** Reads every example into an ArrayDataset (float pixels): for datasets that decode on each get(). */
export function materialize(ds: Dataset): ArrayDataset {
  if (ds instanceof ArrayDataset) return ds;
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const pixels = new Float32Array(ds.length * size);
  const labels = new Int32Array(ds.length);
  for (let i = 0; i < ds.length; i++) {
    const e = ds.get(i);
    pixels.set(e.image, i * size);
    labels[i] = e.label;
  }
  return new ArrayDataset(pixels, labels, ds.shape, ds.classes, ds.classNames);
}
