// `cnnc eval` on a detector (VOC AP@0.5 and COCO AP@[.5:.95] per class and overall) against values
// worked out by hand, and COCO data end to end: train and detect keep COCO's category ids.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { Canvas } from '../../runtime/detect/canvas.ts';
import { cnnc } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-detect-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = 'test/detect/models/tiny.cnn';

/** TinyYolo with zero weights and the given head bias: every cell outputs the same box. */
function headBiasWeights(bias: number[]): string {
  const graph = compileModel({ file: resolve(MODEL) }).graph!;
  const tensors = new Map(graph.layers.flatMap((l) => l.params).map((p) => {
    const data = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.name === 'head.bias') data.set(bias);
    return [p.name, { dtype: 'F32' as const, shape: [...p.shape], data }];
  }));
  const path = join(dir, 'tiny.safetensors');
  writeSafetensorsFile(path, tensors);
  return path;
}

describe('cnnc eval on a detector', () => {
  it('prints AP@0.5 and AP@[.5:.95] per class and overall, as computed by hand', () => {
    // Objectness ln 9 (0.9), box in the middle of its cell the size of the anchor (1.6 cells =
    // 12.8 pixels of the 32x32 input), classes (0, ln 3): every one of the 16 cells gives a square
    // at score 0.675, all equal, so they rank in cell order. Neighbours overlap by IoU 0.23.
    // Truth: square A exactly on cell (1, 1) (rank 6, IoU 1); square B on cell (2, 2) moved
    // 2 pixels right (rank 11, IoU 138.24 / 189.44 = 0.73); a circle that no box has the class of.
    // IoU 0.5 to 0.7 (5 thresholds): TP at ranks 6 and 11; precision 1/6 at recall 1/2, 2/11 at
    // recall 1; the envelope is 2/11 everywhere: AP = 2/11 (VOC and COCO alike).
    // IoU 0.75 to 0.95 (5): TP at rank 6 only: 51 of COCO's 101 recall points at 1/6: 51/606.
    // circle: 0. square COCO: (2/11 + 51/606) / 2 = 13.3%; means over both classes.
    const root = join(dir, 'one');
    mkdirSync(join(root, 'images'), { recursive: true });
    mkdirSync(join(root, 'labels'), { recursive: true });
    writeFileSync(join(root, 'classes.txt'), 'circle\nsquare\n');
    writeFileSync(join(root, 'images', 'a.png'), new Canvas(32, 32).png());
    writeFileSync(join(root, 'labels', 'a.txt'), '1 0.375 0.375 0.4 0.4\n1 0.6875 0.625 0.4 0.4\n0 0.5 0.5 0.2 0.2\n');
    const w = headBiasWeights([Math.log(9), 0, 0, 0, 0, 0, Math.log(3)]);
    const r = cnnc(['eval', MODEL, '--weights', w, '--data', `yolo:${root}`, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const square = (2 / 11 + 51 / 606) / 2;
    const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual([
      'class boxes AP@0.5 AP@.5:.95',
      'circle 1 0.0% 0.0%',
      `square 2 ${pct(2 / 11)} ${pct(square)}`,
      `mAP@0.5 ${pct(1 / 11)} (VOC, all-point)`,
      `mAP@[.5:.95] ${pct(square / 2)} (COCO, 101-point)`,
    ]);
  });
});

describe('COCO annotations end to end', () => {
  it("train and detect: results carry the annotations' category ids, and with --coco their image ids", () => {
    const root = join(dir, 'coco');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'street.png'), new Canvas(64, 48).png());
    writeFileSync(join(root, 'other.png'), new Canvas(8, 8).png());
    // Category ids 3 and 7, as COCO numbers with gaps; classes follow the id order.
    writeFileSync(join(root, 'instances.json'), JSON.stringify({
      images: [{ id: 42, file_name: 'street.png', width: 64, height: 48 }],
      categories: [{ id: 7, name: 'person' }, { id: 3, name: 'car' }],
      annotations: [{ image_id: 42, category_id: 7, bbox: [4, 4, 20, 30] }, { image_id: 42, category_id: 3, bbox: [30, 10, 30, 20] }],
    }, null, 2));
    const w = join(dir, 'coco.safetensors');
    const spec = `coco:${join(root, 'instances.json')}`;
    const t = cnnc(['train', MODEL, '--data', spec, '--epochs', '1', '--batch', '1', '--backend', 'cpu', '--out', w]);
    expect(t.code, t.stderr).toBe(0);
    // Score 0: every cell's box of its best class, each under its COCO category id.
    const out = join(dir, 'found');
    const d = cnnc(['detect', MODEL, '--weights', w, join(root, 'street.png'), '--score', '0', '--iou', '1', '--max', '100', '--backend', 'cpu', '-o', out]);
    expect(d.code, d.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number; category_id: number }[];
    expect(results).toHaveLength(16);
    // The checkpoint keeps the class names too, in category id order.
    expect(d.stdout).toMatch(/^ {2}(car|person) \d/m);
    expect(d.stdout).not.toMatch(/class \d/);
    // Category ids from the checkpoint; the file name has no number: image_id is its position.
    for (const res of results) {
      expect(res.image_id).toBe(1);
      expect([3, 7]).toContain(res.category_id);
    }
    // --coco numbers the images as the annotations do (by file name).
    const withIds = cnnc(['detect', MODEL, '--weights', w, join(root, 'street.png'), '--coco', join(root, 'instances.json'), '--score', '0', '--iou', '1', '--max', '3', '--backend', 'cpu', '-o', out]);
    expect(withIds.code, withIds.stderr).toBe(0);
    const numbered = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number; category_id: number }[];
    expect(numbered.map((r) => r.image_id)).toEqual([42, 42, 42]);
    expect(numbered.map((r) => r.category_id)).toEqual(results.slice(0, 3).map((r) => r.category_id));
    const stranger = cnnc(['detect', MODEL, '--weights', w, join(root, 'other.png'), '--coco', join(root, 'instances.json'), '--backend', 'cpu', '-o', out]);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr.trim()).toMatch(/^cnnc detect: \S*other\.png is not among the images of \S*instances\.json \(matched by file name\)$/);
  });
});
