// One picture file (named on the command line, or listed in detection data), decoded; a missing
// file, a folder or a file that is not a PNG or JPEG is one line naming the path (exit 1).

import { readFileSync } from 'node:fs';
import { DataError } from './dataset.ts';
import { decodeImage, type Rgba } from './image.ts';

export function readImageFile(path: string): Rgba {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, not an image' : `cannot read: ${err.message}`}`);
  }
  return decodeImage(bytes, path);
}
