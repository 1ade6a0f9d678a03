// Writes Fashion-MNIST as identity folders for the one-shot demo of docs/faces.md: classes play
// identities. Seen classes (default 0-6) train the encoder; unseen classes (7-9) get one reference
// image each in db/ and held-out queries in unseen/.
//   node bin/run-ts.js scripts/fashion-identities.ts OUT [--per-class N] [--queries N] [--data SPEC]
// OUT/train/<class>/     seen classes, training split (N per class)
// OUT/heldout/<class>/   seen classes, test split (held-out pairs for cnnc eval)
// OUT/db/<class>/        unseen classes: the first test image of each (the one shot)
// OUT/unseen/<class>/    unseen classes: the next test images (queries)

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import type { Dataset } from '../runtime/data/dataset.ts';
import { FASHION_CLASSES, loadData } from '../runtime/data/spec.ts';

const [out, ...rest] = process.argv.slice(2);
if (!out) throw new Error('usage: fashion-identities.ts OUT [--per-class N] [--queries N] [--data SPEC]');
const option = (name: string, fallback: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : fallback;
};
const perClass = Number(option('per-class', '300'));
const queries = Number(option('queries', '100'));
const seen = [0, 1, 2, 3, 4, 5, 6];
const unseen = [7, 8, 9];
const folderName = (c: number) => `${c}-${FASHION_CLASSES[c].toLowerCase().replace(/[^a-z]+/g, '-')}`;

function writePng(path: string, image: Float32Array, size: number): void {
  const png = new pngjs.PNG({ width: size, height: size, colorType: 0 });
  for (let i = 0; i < size * size; i++) {
    const v = Math.round(image[i] * 255);
    png.data.set([v, v, v, 255], i * 4);
  }
  writeFileSync(path, pngjs.PNG.sync.write(png, { colorType: 0 }));
}

/** Writes up to `take(c)` images of each class (after skipping `skip(c)` of them) to dir/<class>/. */
function exportClasses(ds: Dataset, dir: string, classes: readonly number[], count: number, skip = 0): number {
  const seenCount = new Map<number, number>();
  let written = 0;
  for (let i = 0; i < ds.length; i++) {
    const { image, label } = ds.get(i);
    if (!classes.includes(label)) continue;
    const k = seenCount.get(label) ?? 0;
    seenCount.set(label, k + 1);
    if (k < skip || k >= skip + count) continue;
    const folder = join(dir, folderName(label));
    mkdirSync(folder, { recursive: true });
    writePng(join(folder, `${String(i).padStart(5, '0')}.png`), image, ds.shape[1]);
    written++;
  }
  return written;
}

const data = loadData(option('data', 'fashion-mnist-bundled'));
const test = data.test ?? data.train;
rmSync(out, { recursive: true, force: true });
const counts = {
  train: exportClasses(data.train, join(out, 'train'), seen, perClass),
  heldout: exportClasses(test, join(out, 'heldout'), seen, Math.min(queries, 100)),
  db: exportClasses(test, join(out, 'db'), unseen, 1),
  unseen: exportClasses(test, join(out, 'unseen'), unseen, queries, 1),
};
process.stdout.write(`${data.description}\nwrote ${JSON.stringify(counts)} images under ${out}\n`);
