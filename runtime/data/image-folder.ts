// An image-folder data set: one sub-folder per class (sorted by name: class 0, 1, ...), PNG/JPEG files inside.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError, checkIndex, type Dataset, type Example } from './dataset.ts';
import { IMAGE_EXTENSIONS, decodeImage, fitImage } from './image.ts';

export interface ImageFolderOptions {
  height: number;
  width: number;
  channels: 1 | 3 | 4;
}

export class ImageFolderDataset implements Dataset {
  readonly length: number;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  readonly classNames: readonly string[];
  readonly files: readonly { path: string; label: number }[];
  readonly options: ImageFolderOptions;

  constructor(
    readonly root: string,
    options: ImageFolderOptions,
  ) {
    const { height, width, channels } = options;
    if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
      throw new DataError(`image size must be positive integers, got ${height} x ${width}`);
    }
    if (![1, 3, 4].includes(channels)) throw new DataError(`channels must be 1, 3 or 4, got ${channels}`);
    let entries: string[];
    try {
      if (!statSync(root).isDirectory()) throw new DataError(`${root}: not a folder (an image-folder data set needs one sub-folder per class)`);
      entries = readdirSync(root);
    } catch (e) {
      if (e instanceof DataError) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new DataError(err.code === 'ENOENT' ? `${root}: no such folder` : `${root}: cannot read: ${err.message}`);
    }
    const classNames = entries.filter((n) => !n.startsWith('.') && statSync(join(root, n)).isDirectory()).sort();
    if (classNames.length === 0) throw new DataError(`${root}: no class sub-folders (expected ${root}/<class>/<image>.png|jpg)`);
    const files: { path: string; label: number }[] = [];
    classNames.forEach((name, label) => {
      const folder = join(root, name);
      const images = readdirSync(folder)
        .filter((f) => !f.startsWith('.') && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
        .sort();
      if (images.length === 0) throw new DataError(`${folder}: class folder '${name}' has no .png, .jpg or .jpeg images`);
      for (const f of images) files.push({ path: join(folder, f), label });
    });
    this.files = files;
    this.length = files.length;
    this.classNames = classNames;
    this.classes = classNames.length;
    this.shape = [channels, height, width];
    this.options = options;
  }

  get(i: number): Example {
    checkIndex(this, i);
    const { path, label } = this.files[i];
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new DataError(`${path}: cannot read image: ${(e as Error).message}`);
    }
    const rgba = decodeImage(bytes, path);
    return { image: fitImage(rgba, this.options.height, this.options.width, this.options.channels), label };
  }
}
