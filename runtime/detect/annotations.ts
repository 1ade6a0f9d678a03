// Detection annotations users already have: YOLO text files (`class cx cy w h`, normalised to the
// image, one file per image) and COCO JSON. Both become one record per image with boxes
// normalised to [0, 1]. Every problem is one error naming the file and the line (for COCO also
// the entry).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { DataError } from '../data/dataset.ts';
import { IMAGE_EXTENSIONS } from '../data/image.ts';
import { jsonSyntaxError, jsonWhere } from './json-lines.ts';

export class AnnotationError extends DataError {
  constructor(message: string) {
    super(message);
    this.name = 'AnnotationError';
  }
}

/** A box as centre and size, normalised by the image's width and height. */
export interface NormBox {
  readonly classId: number;
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
}

export interface AnnotatedImage {
  readonly file: string;
  /** COCO's image id; for YOLO folders the index in file-name order. */
  readonly id: number;
  readonly boxes: readonly NormBox[];
}

export interface DetectionSet {
  readonly images: readonly AnnotatedImage[];
  readonly classNames: readonly string[];
  /** COCO category id of each class (1-based for YOLO folders). */
  readonly categoryIds: readonly number[];
}

/** A text file without the byte-order mark some Windows editors write first. */
function readText(path: string): string {
  return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
}

/** Slack for boxes that touch the border (rounding in files written with 6 decimals). */
const EDGE = 1e-4;

/** The boxes of one YOLO label file. */
export function parseYoloLabels(text: string, file: string, classes: number): NormBox[] {
  const boxes: NormBox[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 5) throw new AnnotationError(`${where}: expected 'class cx cy w h' (5 fields), got ${parts.length}: '${line}'`);
    const v = parts.map(Number);
    const bad = parts.findIndex((p, k) => p === '' || !Number.isFinite(v[k]));
    if (bad >= 0) throw new AnnotationError(`${where}: '${parts[bad]}' is not a number`);
    const [cls, cx, cy, w, h] = v as [number, number, number, number, number];
    if (!Number.isInteger(cls) || cls < 0 || cls >= classes) throw new AnnotationError(`${where}: class ${parts[0]} out of range: ${classes} classes (0 to ${classes - 1})`);
    if (!(w > 0 && h > 0)) throw new AnnotationError(`${where}: box size ${w} x ${h} must be positive`);
    if (cx - w / 2 < -EDGE || cy - h / 2 < -EDGE || cx + w / 2 > 1 + EDGE || cy + h / 2 > 1 + EDGE) {
      throw new AnnotationError(`${where}: box (centre ${cx}, ${cy}, size ${w} x ${h}) lies outside the image (coordinates are fractions of the image, 0 to 1)`);
    }
    boxes.push({ classId: cls, cx, cy, w, h });
  });
  return boxes;
}

function readClassNames(path: string): string[] {
  const names = readText(path).split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new AnnotationError(`${path}: no class names (one per line)`);
  return names;
}

/**
 * A YOLO folder: `images/` and `labels/` side by side (label `labels/x.txt` for image
 * `images/x.png`; an image without a label file has no objects), class names one per line in
 * `classes.txt` (in the folder or its parent).
 */
export function loadYoloFolder(dir: string): DetectionSet {
  const imagesDir = join(dir, 'images');
  const labelsDir = join(dir, 'labels');
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory()) throw new AnnotationError(`${dir}: no images/ folder (a YOLO folder holds images/ and labels/)`);
  const classFile = [join(dir, 'classes.txt'), join(dir, '..', 'classes.txt')].find((p) => existsSync(p));
  if (!classFile) throw new AnnotationError(`${dir}: no classes.txt (class names, one per line) here or in the parent folder`);
  const classNames = readClassNames(classFile);
  const images = readdirSync(imagesDir).filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase())).sort();
  const byStem = new Map(images.map((f) => [basename(f, extname(f)), f]));
  if (existsSync(labelsDir)) {
    for (const label of readdirSync(labelsDir).filter((f) => f.endsWith('.txt')).sort()) {
      const stem = basename(label, '.txt');
      if (!byStem.has(stem)) throw new AnnotationError(`${join(labelsDir, label)}:1: missing image: no ${stem}.png or .jpg in ${imagesDir}`);
    }
  }
  return {
    classNames,
    categoryIds: classNames.map((_, i) => i + 1),
    images: images.map((f, id) => {
      const label = join(labelsDir, `${basename(f, extname(f))}.txt`);
      const boxes = existsSync(label) ? parseYoloLabels(readText(label), label, classNames.length) : [];
      return { file: join(imagesDir, f), id, boxes };
    }),
  };
}

interface CocoFile {
  images?: { id?: unknown; file_name?: unknown; width?: unknown; height?: unknown }[];
  annotations?: { image_id?: unknown; category_id?: unknown; bbox?: unknown; iscrowd?: unknown }[];
  categories?: { id?: unknown; name?: unknown }[];
}

/**
 * COCO JSON (instances): images, annotations with `bbox: [x, y, w, h]` in pixels, categories.
 * `requireImages: false` reads the file for its ids and names alone, wherever the pictures are.
 */
export function loadCoco(jsonPath: string, imagesDir: string, { requireImages = true } = {}): DetectionSet {
  const text = readText(jsonPath);
  let data: CocoFile;
  try {
    data = JSON.parse(text) as CocoFile;
  } catch (e) {
    throw new AnnotationError(jsonSyntaxError(jsonPath, text, e as Error));
  }
  if (data === null || typeof data !== 'object' || !Array.isArray(data.images) || !Array.isArray(data.annotations) || !Array.isArray(data.categories)) {
    throw new AnnotationError(`${jsonPath}:1: expected COCO instances JSON with 'images', 'annotations' and 'categories' arrays`);
  }
  /** Names the file, the line of the entry (or of its `field`) and the entry, as `a.json:57: annotations[12]`. */
  const fail = (list: string, index: number, field: string | undefined, message: string): never => {
    throw new AnnotationError(`${jsonWhere(jsonPath, text, field ? [list, index, field] : [list, index])}: ${list}[${index}]: ${message}`);
  };
  const seen = new Set<number>();
  data.categories.forEach((c, i) => {
    if (typeof c.id !== 'number' || typeof c.name !== 'string') fail('categories', i, undefined, 'needs a numeric id and a name');
    if (seen.has(Number(c.id))) fail('categories', i, 'id', `category id ${String(c.id)} appears twice`);
    seen.add(Number(c.id));
  });
  const cats = [...data.categories].sort((a, b) => Number(a.id) - Number(b.id));
  const classOf = new Map(cats.map((c, i) => [Number(c.id), i]));
  const images = new Map<number, { file: string; width: number; height: number; boxes: NormBox[] }>();
  data.images.forEach((im, i) => {
    if (typeof im.id !== 'number' || typeof im.file_name !== 'string' || typeof im.width !== 'number' || typeof im.height !== 'number' || im.width <= 0 || im.height <= 0) {
      fail('images', i, undefined, 'needs id, file_name, and positive width and height');
    }
    const file = join(imagesDir, String(im.file_name));
    if (requireImages && !existsSync(file)) fail('images', i, 'file_name', `missing image ${file}`);
    images.set(Number(im.id), { file, width: Number(im.width), height: Number(im.height), boxes: [] });
  });
  data.annotations.forEach((a, i) => {
    const im = typeof a.image_id === 'number' ? images.get(a.image_id) : undefined;
    if (!im) return fail('annotations', i, 'image_id', `image_id ${String(a.image_id)} is not in 'images'`);
    const cls = typeof a.category_id === 'number' ? classOf.get(a.category_id) : undefined;
    if (cls === undefined) return fail('annotations', i, 'category_id', `category_id ${String(a.category_id)} out of range (not in 'categories')`);
    const b = a.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) return fail('annotations', i, 'bbox', 'bbox must be [x, y, width, height] numbers');
    const [x, y, w, h] = b as [number, number, number, number];
    if (!(w > 0 && h > 0)) fail('annotations', i, 'bbox', `bbox size ${w} x ${h} must be positive`);
    const slackX = im.width * EDGE;
    const slackY = im.height * EDGE;
    if (x < -slackX || y < -slackY || x + w > im.width + slackX || y + h > im.height + slackY) {
      fail('annotations', i, 'bbox', `bbox [${b.join(', ')}] lies outside the ${im.width}x${im.height} image`);
    }
    // A crowd region (iscrowd 1) is one box over a group of objects: no single object to find.
    if (a.iscrowd === 1) return;
    im.boxes.push({ classId: cls, cx: (x + w / 2) / im.width, cy: (y + h / 2) / im.height, w: w / im.width, h: h / im.height });
  });
  return {
    classNames: cats.map((c) => String(c.name)),
    categoryIds: cats.map((c) => Number(c.id)),
    images: [...images].map(([id, im]) => ({ file: im.file, id, boxes: im.boxes })),
  };
}
