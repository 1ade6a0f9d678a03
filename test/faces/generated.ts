// Generated "faces" for tests: 8x8 grey images whose identity is a faint pattern of its own, under
// a large nuisance (pose, lighting) drawn from a few patterns shared by everyone. An untrained
// encoder mostly sees the nuisance; a trained one learns to ignore it, also for new identities.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { ArrayDataset } from '../../runtime/data/dataset.ts';
import { Rng } from '../../runtime/data/random.ts';

export const SIZE = 8;
const PIXELS = SIZE * SIZE;
const NUISANCE = 4;

function pattern(rng: Rng): Float32Array {
  return Float32Array.from({ length: PIXELS }, () => rng.uniform(-1, 1));
}

const nuisance = Array.from({ length: NUISANCE }, (_, k) => pattern(Rng.seeded(99, k)));

/** Image `index` of identity `identity`, values in [0, 1]. */
export function faceImage(identity: number, index: number): Float32Array {
  const proto = pattern(Rng.seeded(7, identity));
  const rng = Rng.seeded(11, identity, index);
  const weights = nuisance.map(() => rng.uniform(-1, 1));
  const out = new Float32Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    let v = 0.5 + 0.06 * proto[i] + 0.02 * rng.normal();
    for (let k = 0; k < NUISANCE; k++) v += 0.12 * weights[k] * nuisance[k][i];
    out[i] = Math.min(1, Math.max(0, v));
  }
  return out;
}

/** Identities [first, first + count), `perIdentity` images each, labelled 0.. in order. */
export function faceDataset(first: number, count: number, perIdentity: number, offset = 0): ArrayDataset {
  const pixels = new Float32Array(count * perIdentity * PIXELS);
  const labels = new Int32Array(count * perIdentity);
  for (let c = 0; c < count; c++) {
    for (let j = 0; j < perIdentity; j++) {
      const i = c * perIdentity + j;
      pixels.set(faceImage(first + c, offset + j), i * PIXELS);
      labels[i] = c;
    }
  }
  return new ArrayDataset(pixels, labels, [1, SIZE, SIZE], count);
}

export function writeFacePng(path: string, image: Float32Array): void {
  const png = new pngjs.PNG({ width: SIZE, height: SIZE, colorType: 0 });
  for (let i = 0; i < PIXELS; i++) {
    const v = Math.round(image[i] * 255);
    png.data.set([v, v, v, 255], i * 4);
  }
  writeFileSync(path, pngjs.PNG.sync.write(png, { colorType: 0 }));
}

/** dir/<name>/<j>.png for each identity given as [name, identity, images, first index]. */
export function writeFaceFolders(dir: string, people: readonly (readonly [string, number, number, number])[]): void {
  for (const [name, identity, images, from] of people) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let j = 0; j < images; j++) writeFacePng(join(dir, name, `${from + j}.png`), faceImage(identity, from + j));
  }
}

/** The encoder the tests train: one dense layer to 8 values of unit length. */
export const FACE_MODELS = `
block enc()(x) {
  x -> flatten -> dense 8 -> l2_normalize
}
model Encoder {
  input face: 8 x 8 x 1
  enc as encoder
}
model Triplet {
  input anchor: 8 x 8 x 1
  input positive: 8 x 8 x 1
  input negative: 8 x 8 x 1
  share encoder = enc()
  a = encoder(anchor)
  p = encoder(positive)
  n = encoder(negative)
  output a, p, n
  loss triplet(a, p, n, alpha 0.2)
}
`;
