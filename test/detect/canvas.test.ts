// Labels of drawn detections: each tab where it hides no earlier one, inside the image.

import { describe, expect, it } from 'vitest';
import { Canvas, placeLabels, type Rect } from '../../runtime/detect/canvas.ts';

const size = { width: 30, height: 9 };
const overlap = (a: Rect, b: Rect): boolean => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

describe('label placement', () => {
  it('puts a tab above the box, else inside its top, and never over an earlier tab', () => {
    // Three boxes with nearly the same top-left corner: above, inside the top, below the box.
    const boxes = [{ x1: 10, y1: 20, x2: 50, y2: 60 }, { x1: 12, y1: 22, x2: 52, y2: 62 }, { x1: 11, y1: 21, x2: 51, y2: 61 }];
    const tabs = placeLabels(boxes, boxes.map(() => size), 100, 100);
    expect(tabs).toEqual([
      { x1: 10, y1: 11, x2: 40, y2: 20 },
      { x1: 12, y1: 22, x2: 42, y2: 31 },
      { x1: 11, y1: 61, x2: 41, y2: 70 },
    ]);
    for (let i = 0; i < tabs.length; i++) for (let j = 0; j < i; j++) expect(overlap(tabs[i]!, tabs[j]!)).toBe(false);
  });

  it('keeps tabs inside the image at its edges', () => {
    const tabs = placeLabels([{ x1: 85, y1: 0, x2: 100, y2: 100 }], [size], 100, 100);
    expect(tabs).toEqual([{ x1: 70, y1: 0, x2: 100, y2: 9 }]);
  });

  it('draws every tab of overlapping boxes readable: the first stays in its colour', () => {
    const canvas = new Canvas(100, 100);
    const red = [230, 25, 75] as const;
    canvas.labelledBoxes([{ x1: 10, y1: 20, x2: 50, y2: 60, label: 'A 0.9', color: red }, { x1: 12, y1: 22, x2: 52, y2: 62, label: 'B 0.8', color: [0, 130, 200] }]);
    // The first tab spans rows 11 to 19 above the first box; a second tab above its own box would
    // cover rows 13 to 21 from x 12. The first tab's bottom row (under the text) stays red.
    for (let x = 10; x < 41; x++) expect([...canvas.data.subarray((19 * 100 + x) * 4, (19 * 100 + x) * 4 + 3)], `x ${x}`).toEqual([...red]);
  });
});
