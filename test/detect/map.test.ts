// mAP against values computed by hand, k-means anchors, target encoding.

import { describe, expect, it } from 'vitest';
import type { Detection } from '../../runtime/detect/boxes.ts';
import { kmeansAnchors, meanBestIou } from '../../runtime/detect/anchors.ts';
import { meanAveragePrecision } from '../../runtime/detect/map.ts';
import { encodeTargets } from '../../runtime/detect/targets.ts';

const det = (x2: number, y2: number, score: number, classId = 0): Detection => ({ x1: 0, y1: 0, x2, y2, score, classId });

describe('mean average precision', () => {
  // Class 0: one true box [0, 0, 10, 10] in each of two images. Detections by score:
  //   d1 0.9 image 0 IoU 0.82, d2 0.8 image 0 IoU 0.7 (duplicate), d3 0.7 image 1 IoU 0.57,
  //   d4 0.6 image 1 IoU 0.1. Class 1: one true box, no detection (AP 0).
  const images = [
    { truth: [det(10, 10, 1)], detections: [det(10, 8.2, 0.9), det(10, 7, 0.8)] },
    { truth: [det(10, 10, 1), det(10, 10, 1, 1)], detections: [det(10, 5.7, 0.7), det(10, 1, 0.6)] },
  ];
  const report = meanAveragePrecision(images, 3);

  it('VOC all-point AP at 0.5: TP FP TP FP gives 0.5 * 1 + 0.5 * 2/3', () => {
    // recall .5 .5 1 1, precision 1 .5 .667 .5; envelope 1 up to recall .5, then 2/3.
    expect(report.perClass[0]!.voc50).toBeCloseTo(0.5 + 0.5 * (2 / 3), 10);
    expect(report.perClass[1]!.voc50).toBe(0);
    expect(report.perClass[2]!.voc50).toBeNull();
    expect(report.map50).toBeCloseTo((0.5 + 0.5 * (2 / 3)) / 2, 10);
  });

  it('COCO AP over IoU 0.5:0.95 with 101 recall points', () => {
    // IoU 0.5, 0.55: as VOC, sampled: 51 points at precision 1, 50 at 2/3.
    // 0.6 to 0.8 (5 thresholds): only d1 matches: 51 points at 1. 0.85 to 0.95: nothing.
    const low = (51 + 50 * (2 / 3)) / 101;
    const mid = 51 / 101;
    expect(report.perClass[0]!.coco).toBeCloseTo((2 * low + 5 * mid) / 10, 10);
    expect(report.mapCoco).toBeCloseTo((2 * low + 5 * mid) / 10 / 2, 10);
  });

  it('a perfect detector scores 1 and one that finds nothing 0', () => {
    const perfect = meanAveragePrecision([{ truth: [det(10, 10, 1)], detections: [det(10, 10, 0.5)] }], 1);
    expect([perfect.map50, perfect.mapCoco]).toEqual([1, 1]);
    const none = meanAveragePrecision([{ truth: [det(10, 10, 1)], detections: [] }], 1);
    expect([none.map50, none.mapCoco]).toEqual([0, 0]);
  });
});

describe('anchors by k-means with distance 1 - IoU', () => {
  it('finds three clusters of shapes and reports their mean IoU', () => {
    const boxes = [];
    for (let i = 0; i < 30; i++) {
      const j = (i % 5) * 0.01;
      boxes.push({ w: 0.1 + j, h: 0.1 + j }, { w: 0.5 + j, h: 0.2 + j }, { w: 0.2 + j, h: 0.7 + j });
    }
    const r = kmeansAnchors(boxes, 3, 4);
    expect(r.anchors.map((a) => [a.w, a.h].map((v) => Number(v.toFixed(2))))).toEqual([[0.12, 0.12], [0.52, 0.22], [0.22, 0.72]]);
    expect(r.meanIou).toBeCloseTo(meanBestIou(boxes, r.anchors), 12);
    expect(r.meanIou).toBeGreaterThan(0.85);
    expect(kmeansAnchors(boxes, 1, 4).meanIou).toBeLessThan(r.meanIou);
  });
});

describe('targets', () => {
  it('puts a box in the cell of its centre and the anchor of the closest shape', () => {
    // 4 x 4 grid, anchors 1 x 1 and 3 x 1 cells, 2 classes; a box of 2.8 x 1.2 cells centred at (2.5, 1.25).
    const head = { anchors: [1, 1, 3, 1], classes: 2 };
    const { target, collisions } = encodeTargets([{ classId: 1, cx: 2.5 / 4, cy: 1.25 / 4, w: 2.8 / 4, h: 1.2 / 4 }], head, { height: 4, width: 4 });
    const at = (a: number, k: number, row: number, col: number): number => target[(a * 7 + k) * 16 + row * 4 + col]!;
    expect(collisions).toBe(0);
    expect(at(1, 0, 1, 2)).toBe(1);
    expect(at(0, 0, 1, 2)).toBe(0);
    expect(at(1, 1, 1, 2)).toBeCloseTo(0.5, 6);
    expect(at(1, 2, 1, 2)).toBeCloseTo(0.25, 6);
    expect(at(1, 3, 1, 2)).toBeCloseTo(Math.log(2.8 / 3), 6);
    expect(at(1, 4, 1, 2)).toBeCloseTo(Math.log(1.2), 6);
    expect([at(1, 5, 1, 2), at(1, 6, 1, 2)]).toEqual([0, 1]);
    expect(target.reduce((s, v) => s + (v === 1 ? 1 : 0), 0)).toBe(2);
  });
});
