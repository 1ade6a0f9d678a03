// Synthetic detection scenes: a seeded generator of small images with several shapes in several
// colours (overlapping, of varied sizes) on noisy, cluttered backgrounds, written as a train/test
// split in YOLO text format. It gives the detector in the standard library something to learn in
// minutes on a CPU, with exact ground truth.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../data/random.ts';
import { iou, type Box } from './boxes.ts';
import { Canvas, type Color } from './canvas.ts';

export const SCENE_CLASSES = ['circle', 'square', 'triangle', 'cross'] as const;

export interface SceneOptions {
  readonly size: number;
  /** Objects per image, inclusive range. */
  readonly minObjects: number;
  readonly maxObjects: number;
  /** Object side in pixels, inclusive range. */
  readonly minSide: number;
  readonly maxSide: number;
  /** Objects may overlap up to this IoU. */
  readonly maxOverlap: number;
  /** Shapes used: the first `classes` of SCENE_CLASSES. */
  readonly classes: number;
}

export const DEFAULT_SCENES: SceneOptions = { size: 96, minObjects: 1, maxObjects: 4, minSide: 14, maxSide: 40, maxOverlap: 0.3, classes: SCENE_CLASSES.length };

export interface SceneObject extends Box {
  readonly classId: number;
}

export interface Scene {
  readonly image: Canvas;
  readonly objects: readonly SceneObject[];
}

const OBJECT_COLORS: readonly Color[] = [
  [220, 40, 40], [40, 170, 60], [40, 80, 220], [235, 200, 30], [200, 60, 200], [30, 190, 200],
];

/** Is (u, v) in [0, 1]^2 of the box inside the shape? */
const INSIDE: Readonly<Record<(typeof SCENE_CLASSES)[number], (u: number, v: number) => boolean>> = {
  circle: (u, v) => (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25,
  square: () => true,
  triangle: (u, v) => Math.abs(u - 0.5) <= v / 2,
  cross: (u, v) => Math.abs(u - 0.5) <= 0.17 || Math.abs(v - 0.5) <= 0.17,
};

/** Fills the shape with 3 x 3 samples per pixel, so edges are smoothed. */
function drawShape(canvas: Canvas, o: SceneObject, color: Color): void {
  const inside = INSIDE[SCENE_CLASSES[o.classId]!];
  const w = o.x2 - o.x1;
  const h = o.y2 - o.y1;
  for (let y = Math.floor(o.y1); y < Math.ceil(o.y2); y++) {
    for (let x = Math.floor(o.x1); x < Math.ceil(o.x2); x++) {
      let hits = 0;
      for (let sy = 0; sy < 3; sy++) {
        for (let sx = 0; sx < 3; sx++) {
          const u = (x + (sx + 0.5) / 3 - o.x1) / w;
          const v = (y + (sy + 0.5) / 3 - o.y1) / h;
          if (u >= 0 && u <= 1 && v >= 0 && v <= 1 && inside(u, v)) hits++;
        }
      }
      if (hits > 0) canvas.pixel(x, y, color, hits / 9);
    }
  }
}

function background(rng: Rng, size: number): Canvas {
  const c = new Canvas(size, size);
  const base = [rng.uniform(60, 190), rng.uniform(60, 190), rng.uniform(60, 190)];
  const grad = [rng.uniform(-40, 40), rng.uniform(-40, 40)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const shade = (grad[0]! * x + grad[1]! * y) / size + rng.normal() * 8;
      const o = (y * size + x) * 4;
      for (let k = 0; k < 3; k++) c.data[o + k] = Math.max(0, Math.min(255, Math.round(base[k]! + shade)));
    }
  }
  return c;
}

/** Thin lines and small dots: things a detector must learn to ignore. */
function clutter(rng: Rng, c: Canvas, size: number): void {
  const color = (): Color => [rng.int(256), rng.int(256), rng.int(256)];
  for (let i = 0, n = 2 + rng.int(5); i < n; i++) {
    const x = rng.uniform(0, size);
    const y = rng.uniform(0, size);
    const len = rng.uniform(8, size / 2);
    const a = rng.uniform(0, Math.PI);
    c.line(x, y, x + len * Math.cos(a), y + len * Math.sin(a), color(), 1);
  }
  for (let i = 0, n = 3 + rng.int(8); i < n; i++) {
    const x = rng.uniform(0, size);
    const y = rng.uniform(0, size);
    const r = rng.uniform(1, 2.5);
    c.fillRect(x - r, y - r, x + r, y + r, color());
  }
}

/** Scene `index` of a stream keyed by `seed` and `split` (each scene is independent of the others). */
export function generateScene(seed: number, split: number, index: number, opts: SceneOptions = DEFAULT_SCENES): Scene {
  const rng = Rng.seeded(seed, split, index);
  const canvas = background(rng, opts.size);
  clutter(rng, canvas, opts.size);
  const objects: SceneObject[] = [];
  const wanted = opts.minObjects + rng.int(opts.maxObjects - opts.minObjects + 1);
  for (let tries = 0; objects.length < wanted && tries < 50; tries++) {
    const side = rng.uniform(opts.minSide, opts.maxSide);
    const aspect = rng.uniform(0.75, 1.33);
    const w = Math.min(side * Math.sqrt(aspect), opts.size);
    const h = Math.min(side / Math.sqrt(aspect), opts.size);
    const x1 = Math.round(rng.uniform(0, opts.size - w));
    const y1 = Math.round(rng.uniform(0, opts.size - h));
    const o: SceneObject = { x1, y1, x2: x1 + Math.round(w), y2: y1 + Math.round(h), classId: rng.int(opts.classes) };
    if (objects.some((p) => iou(p, o) > opts.maxOverlap)) continue;
    drawShape(canvas, o, OBJECT_COLORS[rng.int(OBJECT_COLORS.length)]!);
    objects.push(o);
  }
  return { image: canvas, objects };
}

/** YOLO text: `class cx cy w h` per object, normalised by the image size. */
export function yoloText(objects: readonly SceneObject[], size: number): string {
  const f = (v: number): string => (v / size).toFixed(6);
  return objects.map((o) => `${o.classId} ${f((o.x1 + o.x2) / 2)} ${f((o.y1 + o.y2) / 2)} ${f(o.x2 - o.x1)} ${f(o.y2 - o.y1)}\n`).join('');
}

/** Writes DIR/classes.txt and DIR/{train,test}/{images,labels}/scene_NNNNN.{png,txt}. */
export function writeScenes(dir: string, counts: { train: number; test: number }, seed: number, opts: SceneOptions = DEFAULT_SCENES): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'classes.txt'), `${SCENE_CLASSES.slice(0, opts.classes).join('\n')}\n`);
  (['train', 'test'] as const).forEach((split, s) => {
    const images = join(dir, split, 'images');
    const labels = join(dir, split, 'labels');
    mkdirSync(images, { recursive: true });
    mkdirSync(labels, { recursive: true });
    for (let i = 0; i < counts[split]; i++) {
      const scene = generateScene(seed, s, i, opts);
      const stem = `scene_${String(i).padStart(5, '0')}`;
      writeFileSync(join(images, `${stem}.png`), scene.image.png());
      writeFileSync(join(labels, `${stem}.txt`), yoloText(scene.objects, opts.size));
    }
  });
}
