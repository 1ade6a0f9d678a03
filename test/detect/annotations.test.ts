// Annotation readers (YOLO text, COCO JSON) and the commands that read them: every bad annotation
// ends in one error line naming the file and line (and the COCO entry), exit 1; scenes and anchors work
// end to end on generated data.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCoco, loadYoloFolder, parseYoloLabels } from '../../runtime/detect/annotations.ts';
import { compileModel } from '../../compiler/program.ts';
import { loadFeedData } from '../../runtime/data/feed-data.ts';
import { Rng } from '../../runtime/data/random.ts';
import { Canvas } from '../../runtime/detect/canvas.ts';
import { detectorOf } from '../../runtime/detect/detector.ts';
import { droppedBoxesNote } from '../../runtime/detect/records.ts';
import { generateScene, yoloText } from '../../runtime/detect/scenes.ts';
import { cnnc } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-annotations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('YOLO label lines', () => {
  it('reads class cx cy w h, skipping blanks and comments', () => {
    expect(parseYoloLabels('# boxes\n1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.2 0.2\n', 'a.txt', 2)).toEqual([
      { classId: 1, cx: 0.5, cy: 0.5, w: 0.2, h: 0.4 },
      { classId: 0, cx: 0.1, cy: 0.1, w: 0.2, h: 0.2 },
    ]);
  });

  const bad: [string, string, RegExp][] = [
    ['class out of range', '0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n', /^a\.txt:2: class 3 out of range: 3 classes \(0 to 2\)$/],
    ['negative class', '-1 0.5 0.5 0.1 0.1\n', /^a\.txt:1: class -1 out of range/],
    ['box outside the image', '\n1 0.95 0.5 0.2 0.1\n', /^a\.txt:2: box \(centre 0\.95, 0\.5, size 0\.2 x 0\.1\) lies outside the image/],
    ['malformed line: fields', '1 0.5 0.5 0.1\n', /^a\.txt:1: expected 'class cx cy w h' \(5 fields\), got 4/],
    ['malformed line: not a number', '1 0.5 half 0.1 0.1\n', /^a\.txt:1: 'half' is not a number$/],
    ['empty box', '1 0.5 0.5 0 0.1\n', /^a\.txt:1: box size 0 x 0\.1 must be positive$/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what} with the file and line`, () => {
      expect(() => parseYoloLabels(text, 'a.txt', 3)).toThrow(message);
    });
  }
});

function yoloFolder(name: string, labels: Record<string, string>, images: string[]): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'images'), { recursive: true });
  mkdirSync(join(root, 'labels'), { recursive: true });
  writeFileSync(join(root, 'classes.txt'), 'circle\nsquare\n');
  for (const im of images) writeFileSync(join(root, 'images', im), new Canvas(8, 8).png());
  for (const [file, text] of Object.entries(labels)) writeFileSync(join(root, 'labels', file), text);
  return root;
}

const COCO_BASE = { images: [{ id: 7, file_name: 'x.png', width: 100, height: 50 }], categories: [{ id: 3, name: 'car' }, { id: 1, name: 'person' }] };
const OK_ANNOTATION = { image_id: 7, category_id: 1, bbox: [1, 1, 2, 2] };

describe('YOLO folders and COCO files', () => {
  it('pairs images with labels; an image without a label file has no boxes', () => {
    // A byte-order mark (as some Windows editors write) is not part of the first field.
    const root = yoloFolder('ok', { 'a.txt': '\uFEFF1 0.5 0.5 0.5 0.5\n' }, ['a.png', 'b.png']);
    const set = loadYoloFolder(root);
    expect(set.classNames).toEqual(['circle', 'square']);
    expect(set.images.map((i) => i.boxes.length)).toEqual([1, 0]);
  });

  it('names a label file whose image is missing', () => {
    const root = yoloFolder('missing', { 'a.txt': '1 0.5 0.5 0.5 0.5\n', 'c.txt': '0 0.5 0.5 0.5 0.5\n' }, ['a.png']);
    expect(() => loadYoloFolder(root)).toThrow(/labels\/c\.txt:1: missing image: no c\.png or \.jpg in /);
  });

  it('reads COCO boxes in pixels, leaving out crowd regions', () => {
    const root = join(dir, 'coco');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'x.png'), new Canvas(8, 8).png());
    const p = join(root, 'a.json');
    writeFileSync(p, `\uFEFF${JSON.stringify({ ...COCO_BASE, annotations: [{ image_id: 7, category_id: 3, bbox: [10, 5, 20, 10] }, { image_id: 7, category_id: 1, bbox: [0, 0, 50, 50], iscrowd: 1 }] })}`);
    const set = loadCoco(p, root);
    expect(set.classNames).toEqual(['person', 'car']);
    expect(set.categoryIds).toEqual([1, 3]);
    expect(set.images[0]!.boxes).toEqual([{ classId: 1, cx: 0.2, cy: 0.2, w: 0.2, h: 0.2 }]);
  });

  // Each bad file is COCO_BASE plus a change, written as people write it (indented, one field a
  // line); the error names the line of the offending field, found here by its text.
  const cocoBad: [string, object, string, RegExp][] = [
    ['category out of range', { annotations: [OK_ANNOTATION, { image_id: 7, category_id: 2, bbox: [1, 1, 2, 2] }] }, '"category_id": 2,', /annotations\[1\]: category_id 2 out of range \(not in 'categories'\)$/],
    ['box outside the image', { annotations: [{ image_id: 7, category_id: 1, bbox: [90, 5, 20, 10] }] }, '"bbox": [\n        90,', /annotations\[0\]: bbox \[90, 5, 20, 10\] lies outside the 100x50 image$/],
    ['malformed box', { annotations: [OK_ANNOTATION, OK_ANNOTATION, { image_id: 7, category_id: 1, bbox: [1, 2, 3] }] }, '"bbox": [\n        1,\n        2,\n        3\n', /annotations\[2\]: bbox must be \[x, y, width, height\] numbers$/],
    ['unknown image', { annotations: [{ image_id: 8, category_id: 1, bbox: [1, 1, 2, 2] }] }, '"image_id": 8,', /annotations\[0\]: image_id 8 is not in 'images'$/],
    ['missing image', { images: [COCO_BASE.images[0], { id: 1, file_name: 'gone.png', width: 4, height: 4 }], annotations: [] }, '"file_name": "gone.png"', /images\[1\]: missing image .*gone\.png$/],
    ['entry without a name', { categories: [{ id: 4 }], annotations: [] }, '{\n      "id": 4', /categories\[0\]: needs a numeric id and a name$/],
  ];
  for (const [what, change, marker, message] of cocoBad) {
    it(`rejects a COCO file with ${what}, naming the file and the line`, () => {
      const root = join(dir, 'coco');
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, 'x.png'), new Canvas(8, 8).png());
      const p = join(root, 'bad.json');
      const text = JSON.stringify({ ...COCO_BASE, ...change }, null, 2);
      writeFileSync(p, text);
      const at = text.indexOf(marker);
      expect(at, marker).toBeGreaterThan(0);
      const line = text.slice(0, at).split('\n').length;
      expect(() => loadCoco(p, root)).toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: ${message.source}`));
    });
  }

  it('names the line and column of a JSON syntax error, in one line', () => {
    const p = join(dir, 'syntax.json');
    writeFileSync(p, '{\n  "images": [],\n  "annotations": [\n    {"image_id": 1}\n    {"image_id": 2}\n  ]\n}\n');
    expect(() => loadCoco(p, dir)).toThrow(/syntax\.json:5:5: invalid JSON: /);
    // A trailing comma: Node's message has no position (and quotes the text); the line is found.
    writeFileSync(p, '{\n  "images": [],\n  "annotations": [\n    {"image_id": 1},\n  ]\n}\n');
    expect(() => loadCoco(p, dir)).toThrow(/^\S*syntax\.json:5:3: invalid JSON: Unexpected token '\]'$/);
  });
});

describe('named feeds from annotations', () => {
  it("yolo:DIR gives 'images' and 'targets' encoded for the model; training flips half left to right", () => {
    // TinyYolo: 32x32 input, 4x4 grid, one anchor of 1.6 cells, 2 classes. A square centred at
    // (0.375, 0.625) of the image, 0.4 wide (1.6 cells): cell (row 2, col 1), offsets 0.5, 0.5,
    // log sizes 0; mirrored, its centre is at x 0.625: col 2.
    const root = yoloFolder('feeds', { 'a.txt': '1 0.375 0.625 0.4 0.4\n' }, ['a.png']);
    const graph = compileModel({ file: resolve('test/detect/models/tiny.cnn') }).graph!;
    const data = loadFeedData(`yolo:${root}`, graph);
    if (data.kind !== 'records') throw new Error('detection data should be records');
    expect([...data.train.fields].map(([name, f]) => [name, f.shape])).toEqual([['images', [3, 32, 32]], ['targets', [7, 4, 4]]]);
    const cellsWithBox = new Set<string>();
    for (let seed = 0; seed < 16; seed++) {
      const target = data.train.get(0, Rng.seeded(seed))!.get('targets')!;
      const at = (k: number, row: number, col: number): number => target[k * 16 + row * 4 + col]!;
      const col = at(0, 2, 1) === 1 ? 1 : 2;
      cellsWithBox.add(`${col}`);
      expect([0, 1, 2, 3, 4, 5, 6].map((k) => Number(at(k, 2, col).toFixed(6)))).toEqual([1, 0.5, 0.5, 0, 0, 0, 1]);
      expect(target.reduce((n, v) => n + (v === 1 ? 1 : 0), 0)).toBe(2);
    }
    expect([...cellsWithBox].sort()).toEqual(['1', '2']);
  });

  it('says how many boxes lose their cell and anchor to an earlier box', () => {
    const graph = compileModel({ file: resolve('test/detect/models/tiny.cnn') }).graph!;
    const det = detectorOf(graph)!;
    const box = { classId: 0, cx: 0.3, cy: 0.3, w: 0.2, h: 0.2 };
    const set = { classNames: ['a', 'b'], categoryIds: [1, 2], images: [{ file: 'x.png', id: 0, boxes: [box, { ...box, cx: 0.32 }, { ...box, cx: 0.8 }] }] };
    expect(droppedBoxesNote(set, det)).toMatch(/^1 of 3 boxes share a grid cell and anchor/);
    expect(droppedBoxesNote({ ...set, images: [{ ...set.images[0]!, boxes: [box] }] }, det)).toBeUndefined();
  });
});

describe('commands', () => {
  it('cnnc train with a bad label: one line naming file and line, exit 1', () => {
    const root = yoloFolder('train-bad', { 'a.txt': '0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n' }, ['a.png']);
    writeFileSync(join(root, 'm.cnn'), 'model M {\n  input image: 8 x 8 x 3\n  conv 14, 2x2, stride 2\n  loss yolo(conv_1, classes 2, anchors 1 x 1 x 2 x 2)\n}\n');
    const r = cnnc(['train', join(root, 'm.cnn'), '--data', `yolo:${root}`, '--epochs', '1', '--batch', '1', '--backend', 'cpu', '--out', join(root, 'w.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cnnc train: .*labels\/a\.txt:2: class 5 out of range: 2 classes \(0 to 1\)$/)]);
  });

  it('cnnc scenes writes a YOLO split that cnnc anchors reads', () => {
    const out = join(dir, 'scenes');
    const r = cnnc(['scenes', '-o', out, '--train', '12', '--test', '3', '--seed', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'train', 'images'))).toHaveLength(12);
    expect(readdirSync(join(out, 'test', 'labels'))).toHaveLength(3);
    // The files are what the generator makes for that seed.
    const scene = generateScene(5, 1, 2);
    expect(readFileSync(join(out, 'test', 'labels', 'scene_00002.txt'), 'utf8')).toBe(yoloText(scene.objects, 96));
    const a = cnnc(['anchors', '--data', `yolo:${out}`, '-k', '2', '--grid', '6']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^2 anchors by k-means \(distance 1 - IoU\) over \d+ boxes/);
    const meanIou = Number(/mean IoU ([\d.]+)/.exec(a.stdout)![1]);
    expect(meanIou).toBeGreaterThan(0.5);
    expect(a.stdout).toMatch(/loss line: anchors [\d.]+ x [\d.]+ x [\d.]+ x [\d.]+\n$/);
  });
});
