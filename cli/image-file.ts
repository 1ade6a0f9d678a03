// One picture named on the command line (embed, verify, recognize, stylize), decoded; a missing
// file, a folder or a file that is not a PNG or JPEG is one line naming the path (exit 1).

import { readFileSync } from 'node:fs';
import { DataError } from '../runtime/data/dataset.ts';
import { decodeImage, type Rgba } from '../runtime/data/image.ts';

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
