// IoU and non-max suppression against torchvision (box_iou, batched_nms, nms) through the fixtures
// of scripts/detection_fixtures.py; decoding against a hand-computed example.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iou, type Box, type Detection } from '../../runtime/detect/boxes.ts';
import { decodeYolo } from '../../runtime/detect/decode.ts';
import { nms } from '../../runtime/detect/nms.ts';
import * as bundleRuntime from '../../runtime/bundle/index.ts';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(resolve(`test/fixtures/detection/${name}.json`), 'utf8')) as T;
const box = ([x1, y1, x2, y2]: number[]): Box => ({ x1: x1!, y1: y1!, x2: x2!, y2: y2! });

describe('IoU', () => {
  it('is the course example: (2,1,4,3) and (1,2,3,4) overlap by 1/7', () => {
    expect(iou(box([2, 1, 4, 3]), box([1, 2, 3, 4]))).toBeCloseTo(1 / 7, 12);
    expect(iou(box([1, 1, 2, 2]), box([2, 2, 3, 3]))).toBe(0);
    expect(iou(box([0, 0, 0, 0]), box([0, 0, 0, 0]))).toBe(0);
  });

  it('is exported with nms and decodeYolo by the bundle runtime (cnnc/runtime)', () => {
    expect([bundleRuntime.iou, bundleRuntime.nms, bundleRuntime.decodeYolo]).toEqual([iou, nms, decodeYolo]);
  });

  it('matches torchvision.ops.box_iou on random boxes', () => {
    const f = fixture<{ a: number[][]; b: number[][]; iou: number[][] }>('box_iou');
    let compared = 0;
    f.a.forEach((a, i) => f.b.forEach((b, j) => {
      expect(iou(box(a), box(b))).toBeCloseTo(f.iou[i]![j]!, 12);
      compared++;
    }));
    expect(compared).toBe(f.a.length * f.b.length);
    expect(f.iou[0]![0]).toBe(1);
  });
});

describe('non-max suppression', () => {
  const cases = fixture<{ boxes: number[][]; scores: number[]; classes: number[]; iou: number; keep: number[]; keepAgnostic: number[] }[]>('nms');
  cases.forEach((c, k) => {
    it(`case ${k}: per class = batched_nms, class-agnostic = nms (IoU ${c.iou}, ${c.boxes.length} boxes)`, () => {
      const dets: Detection[] = c.boxes.map((b, i) => ({ ...box(b), score: c.scores[i]!, classId: c.classes[i]! }));
      expect(nms(dets, { iou: c.iou })).toEqual(c.keep);
      expect(nms(dets, { iou: c.iou, classAgnostic: true })).toEqual(c.keepAgnostic);
      expect(c.keepAgnostic.length).toBeLessThan(c.boxes.length);
      expect(nms(dets, { iou: c.iou, max: 3 })).toEqual(c.keep.slice(0, 3));
    });
  });
});

describe('decoding a YOLO output', () => {
  // A 2 x 2 grid, one anchor of 1 x 0.5 cells, 2 classes, a 64 x 64 input from a 128 x 64 image.
  // Only cell (row 0, col 1) is confident: sigmoid(ln 9) = 0.9, tx = ty = 0 (centre of the cell),
  // tw = ln 2 (2 cells wide), th = 0 (0.5 cells), class logits (0, ln 3): probabilities 1/4, 3/4.
  // Score 0.9 x 0.75 = 0.675, class 1. Centre (1.5, 0.5) cells = (48, 16) input pixels, size
  // 64 x 16 pixels: corners (16, 8) to (80, 24) in the input.
  const out = new Float32Array(7 * 4).fill(-10);
  const set = (k: number, v: number): void => {
    out[k * 4 + 1] = v;
  };
  [Math.log(9), 0, 0, Math.log(2), 0, 0, Math.log(3)].forEach((v, k) => set(k, v));
  for (let k = 1; k < 5; k++) for (const cell of [0, 2, 3]) out[k * 4 + cell] = 0;
  const head = { anchors: [1, 0.5], classes: 2 };
  const options = { score: 0.6, iou: 0.5, max: 10 };

  it('resized input: x scales by 128 / 64, y by 1, clipped to the image', () => {
    const d = decodeYolo(out, [7, 2, 2], head, { mode: 'resize', width: 128, height: 64, netWidth: 64, netHeight: 64 }, options);
    expect(d).toHaveLength(1);
    expect(d[0]!.classId).toBe(1);
    expect(d[0]!.score).toBeCloseTo(0.675, 6);
    // x: 16 * 2 = 32, 80 * 2 = 160 clipped to 128; y: 8, 24.
    expect([d[0]!.x1, d[0]!.y1, d[0]!.x2, d[0]!.y2].map((v) => Number(v.toFixed(4)))).toEqual([32, 8, 128, 24]);
  });

  it('letterboxed input: scale 1/2 with 16-pixel bars above and below', () => {
    const d = decodeYolo(out, [7, 2, 2], head, { mode: 'letterbox', width: 128, height: 64, netWidth: 64, netHeight: 64 }, options);
    // x: 16 / 0.5 = 32, 80 / 0.5 = 160 -> 128; y: (8 - 16) / 0.5 = -16 -> 0, (24 - 16) / 0.5 = 16.
    expect([d[0]!.x1, d[0]!.y1, d[0]!.x2, d[0]!.y2].map((v) => Number(v.toFixed(4)))).toEqual([32, 0, 128, 16]);
  });

  it('drops boxes below the score threshold', () => {
    expect(decodeYolo(out, [7, 2, 2], head, { mode: 'resize', width: 64, height: 64, netWidth: 64, netHeight: 64 }, { ...options, score: 0.7 })).toEqual([]);
  });
});
