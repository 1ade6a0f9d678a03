// Detection data as named feeds: per image the field `images` (the picture resized to the model's
// input, [C, H, W]) and `targets` (the yolo loss's target grid, [A(5 + C), S, S]). Specs:
//   yolo:DIR                 a YOLO folder (images/, labels/, classes.txt), or DIR/train and DIR/test of them
//   coco:ANNOTATIONS.json[,IMAGES]   COCO instances; images beside the JSON unless IMAGES is given

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { groupDigits } from '../../compiler/checker/values.ts';
import { DataError } from '../data/dataset.ts';
import { readImageFile } from '../data/image-file.ts';
import type { Records } from '../data/records.ts';
import type { Rng } from '../data/random.ts';
import { loadCoco, loadYoloFolder, type DetectionSet, type NormBox } from './annotations.ts';
import type { Detector } from './detector.ts';
import { placeImage } from './placement.ts';
import { encodeTargets } from './targets.ts';

export const TARGET_FIELD = 'targets';
export const IMAGE_FIELD = 'images';

export interface DetectionData {
  readonly train: DetectionSet;
  readonly test?: DetectionSet;
  readonly description: string;
  readonly source: string;
}

/** Reads a detection spec (`yolo:DIR`, `coco:JSON[,IMAGES]`); undefined for other specs. */
export function loadDetectionData(spec: string): DetectionData | undefined {
  const colon = spec.indexOf(':');
  const prefix = spec.slice(0, Math.max(colon, 0));
  const rest = spec.slice(colon + 1);
  if (prefix === 'yolo') {
    if (!rest || !existsSync(rest)) throw new DataError(`data spec '${spec}': no such folder: ${rest}`);
    const split = existsSync(join(rest, 'train', 'images'));
    const train = loadYoloFolder(split ? join(rest, 'train') : rest);
    const testDir = ['test', 'val'].map((d) => join(rest, d)).find((d) => existsSync(join(d, 'images')));
    const test = split && testDir ? loadYoloFolder(testDir) : undefined;
    return { train, ...(test ? { test } : {}), description: `YOLO folder ${rest}: ${train.images.length} train${test ? `, ${test.images.length} test` : ''} images, ${train.classNames.length} classes (${train.classNames.join(', ')})`, source: rest };
  }
  if (prefix === 'coco') {
    const [json, images] = rest.split(',');
    if (!json || !existsSync(json)) throw new DataError(`data spec '${spec}': no such file: ${json ?? ''}`);
    const set = loadCoco(json, images ?? dirname(json));
    return { train: set, description: `COCO ${json}: ${set.images.length} images, ${set.classNames.length} classes`, source: json };
  }
  return undefined;
}

/**
 * How many training boxes cannot be targets because an earlier box of the same image took their
 * grid cell and anchor (YAD2K drops them too), as a note for the log; undefined when none.
 */
export function droppedBoxesNote(set: DetectionSet, det: Detector): string | undefined {
  let dropped = 0;
  let total = 0;
  for (const im of set.images) {
    dropped += encodeTargets(im.boxes, det.head, det.grid).collisions;
    total += im.boxes.length;
  }
  if (dropped === 0) return undefined;
  return `${groupDigits(dropped)} of ${groupDigits(total)} boxes share a grid cell and anchor with an earlier box of their image and are not targets (more anchors or a finer grid keep them)`;
}

function mirrorBoxes(boxes: readonly NormBox[]): NormBox[] {
  return boxes.map((b) => ({ ...b, cx: 1 - b.cx }));
}

function mirrorImage(img: Float32Array, [c, h, w]: readonly [number, number, number]): Float32Array {
  const out = new Float32Array(img.length);
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(k * h + y) * w + x] = img[(k * h + y) * w + (w - 1 - x)]!;
  return out;
}

/**
 * Records of one detection set for `det`: images resized to the input (kept in memory as bytes
 * after the first read), targets encoded per example; `mirror` flips half the examples left to right.
 */
export function detectionRecords(set: DetectionSet, det: Detector, options: { mirror?: boolean } = {}): Records {
  if (set.classNames.length !== det.head.classes) {
    throw new DataError(`the data has ${set.classNames.length} classes (${set.classNames.join(', ')}) but the model's yolo loss has ${det.head.classes}`);
  }
  const [c, h, w] = det.inputShape;
  if (c !== 1 && c !== 3) throw new DataError(`detection input needs 1 or 3 channels, got ${c}`);
  const count = det.head.anchors.length / 2;
  const cache = new Map<number, Uint8Array>();
  const image = (i: number): Float32Array => {
    let bytes = cache.get(i);
    if (!bytes) {
      const rgba = readImageFile(set.images[i]!.file);
      const placed = placeImage(rgba, { mode: 'resize', width: rgba.width, height: rgba.height, netWidth: w, netHeight: h }, c);
      bytes = Uint8Array.from(placed, (v) => Math.round(v * 255));
      cache.set(i, bytes);
    }
    return Float32Array.from(bytes, (v) => v / 255);
  };
  return {
    length: set.images.length,
    fields: new Map([
      [IMAGE_FIELD, { shape: [c, h, w], dtype: 'f32' as const }],
      [TARGET_FIELD, { shape: [count * (5 + det.head.classes), det.grid.height, det.grid.width], dtype: 'f32' as const }],
    ]),
    classNames: set.classNames,
    categoryIds: set.categoryIds,
    get(i: number, rng: Rng) {
      let img = image(i);
      let boxes: readonly NormBox[] = set.images[i]!.boxes;
      if (options.mirror && rng.chance(0.5)) {
        img = mirrorImage(img, det.inputShape);
        boxes = mirrorBoxes(boxes);
      }
      return new Map([
        [IMAGE_FIELD, img],
        [TARGET_FIELD, encodeTargets(boxes, det.head, det.grid).target],
      ]);
    },
  };
}
