// cnnc detect (a yolo detector and a sliding-window classifier) and cnnc predict --draw (landmarks)
// end to end, with weights made by hand so every box and point is known in advance.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { Canvas } from '../../runtime/detect/canvas.ts';
import { readImageFile } from '../../runtime/data/image-file.ts';
import { writeFileAtomic } from '../../cli/io.ts';
import { cnnc } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Zero weights for every parameter of a model, except the given ones. */
function weights(file: string, model: string, set: Record<string, number[]>): string {
  const graph = compileModel({ file: resolve(file), model }).graph!;
  const tensors = new Map(graph.layers.flatMap((l) => l.params).map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const fill = p.role === 'running_var' || p.role === 'gamma' ? 1 : 0;
    return [p.name, { dtype: 'F32' as const, shape: [...p.shape], data: Float32Array.from(set[p.name] ?? new Array<number>(n).fill(fill)) }];
  }));
  const path = join(dir, `${model}.safetensors`);
  writeSafetensorsFile(path, tensors);
  return path;
}

function image(name: string, width: number, height: number): string {
  const path = join(dir, name);
  writeFileAtomic(path, new Canvas(width, height).png());
  return path;
}

describe('cnnc detect', () => {
  it('decodes a yolo grid, keeps --max boxes and writes COCO results and labelled PNGs', () => {
    // TinyYolo with zero weights: every cell outputs the head bias. Objectness ln 9 (0.9), a box
    // in the middle of its cell the size of the anchor (1.6 cells = 12.8 input pixels), classes
    // (0, ln 3): score 0.9 x 0.75 = 0.675 for class 1. Neighbours overlap by IoU 0.23: none is
    // suppressed, so --max 10 keeps 10 of the 16. A 64 x 32 image doubles x.
    const w = weights('test/detect/models/tiny.cnn', 'TinyYolo', { 'head.bias': [Math.log(9), 0, 0, 0, 0, 0, Math.log(3)] });
    const img = image('street_42.png', 64, 32);
    const out = join(dir, 'yolo-out');
    const r = cnnc(['detect', 'test/detect/models/tiny.cnn', '--weights', w, img, '--max', '10', '--class-names', 'circle,square', '--backend', 'cpu', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { image_id: number; category_id: number; bbox: number[]; score: number }[];
    expect(results).toHaveLength(10);
    for (const res of results) expect(res).toMatchObject({ image_id: 42, category_id: 2, score: 0.675 });
    // Equal scores keep cell order: rows 0 and 1, then row 2's first two cells. Cell (0, 0): centre
    // (4, 4) input pixels, corners clipped to the image: [0, 0] to [(4 + 6.4) * 2, 4 + 6.4].
    // The tenth, cell (2, 1): centre (12, 20): [(12 - 6.4) * 2, 20 - 6.4] plus 25.6 x 12.8.
    expect(results[0]!.bbox).toEqual([0, 0, 20.8, 10.4]);
    expect(results[9]!.bbox).toEqual([11.2, 13.6, 25.6, 12.8]);
    expect(r.stdout).toMatch(/street_42\.png \(image_id 42\): 10 boxes\n {2}square 0\.675 at/);
    const png = readImageFile(join(out, 'street_42.png'));
    expect([png.width, png.height]).toEqual([64, 32]);
    expect(png.data.some((v, i) => i % 4 !== 3 && v !== 255)).toBe(true);
  });

  it('runs a sliding-window classifier convolutionally: the score grid and windows as boxes', () => {
    // SlidingWindows28 with zero weights and class bias (0, 0, 2, 0): every 14x14 window (8 x 8 of
    // them, stride 2) scores e^2 / (3 + e^2) = 0.711 for class 2; NMS at IoU 0.5 keeps windows
    // 4 pixels apart or more (IoU of a 2-pixel shift is 0.75, of 4 pixels 0.56, of 6 pixels 0.4).
    const w = weights('stdlib/sliding_windows.cnn', 'SlidingWindows28', { 'classifier.fc3.bias': [0, 0, 2, 0] });
    const img = image('road.png', 28, 28);
    const r = cnnc(['detect', 'stdlib/sliding_windows.cnn', '--model', 'SlidingWindows28', '--weights', w, img, '--score', '0.7', '--max', '100', '--backend', 'cpu', '-o', join(dir, 'sw-out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('8x8 windows of 14x14 pixels, stride 2; class scores:');
    expect(r.stdout).toContain(`    ${new Array(8).fill('0.71').join(' ')}`);
    const boxes = [...r.stdout.matchAll(/class 2 0\.711 at \(([\d.]+), ([\d.]+)\) to \(([\d.]+), ([\d.]+)\)/g)];
    expect(boxes.length).toBeGreaterThan(1);
    expect(boxes.length).toBeLessThan(64);
    for (const b of boxes) {
      const [x1, y1, x2, y2] = b.slice(1, 5).map(Number) as [number, number, number, number];
      expect([x2 - x1, y2 - y1]).toEqual([14, 14]);
      // Windows start every 2 pixels, from 0 to 14 (8 per row and column).
      for (const v of [x1, y1]) expect(v % 2 === 0 && v >= 0 && v <= 14, `window at ${v}`).toBe(true);
    }
    // Equal scores keep grid order: the first window kept is the top-left one.
    expect(boxes[0]!.slice(1, 5).map(Number)).toEqual([0, 0, 14, 14]);
  });

  it('a bad image stops it in one line, exit 1, before anything is written', () => {
    const w = weights('test/detect/models/tiny.cnn', 'TinyYolo', {});
    const bad = join(dir, 'notes.png');
    writeFileAtomic(bad, new TextEncoder().encode('not a picture'));
    const out = join(dir, 'bad-out');
    const r = cnnc(['detect', 'test/detect/models/tiny.cnn', '--weights', w, image('fine.png', 32, 32), bad, '--backend', 'cpu', '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cnnc detect: .*notes\.png: not a PNG or JPEG image/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a model that is not a detector, in one line', () => {
    const img = image('x.png', 8, 8);
    const r = cnnc(['detect', 'stdlib/lenet5.cnn', '--weights', img, img, '-o', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cnnc detect: model LeNet5 is neither a detector/)]);
  });
});

describe('cnnc predict --draw', () => {
  it("draws the Landmarks model's points on the image", () => {
    // Zero weights: the points are the landmarks bias, (0.25, 0.5) and (0.75, 0.25) of the
    // 64 x 64 input; a 128 x 128 image is scaled by 1/2, so they land at (32, 64) and (96, 32).
    const bias = new Array<number>(128).fill(-1);
    bias.splice(0, 4, 0.25, 0.5, 0.75, 0.25);
    const w = weights('stdlib/localization.cnn', 'Landmarks', { 'landmarks.bias': bias });
    // A 256 x 128 image is scaled by 1/2 too and its centre 64 columns kept (32 cut on each side):
    // x = (0.25 * 64 + 32) * 2 = 96 and (0.75 * 64 + 32) * 2 = 160, y = 64 and 32.
    const out = join(dir, 'points');
    const r = cnnc(['predict', 'stdlib/localization.cnn', '--model', 'Landmarks', '--weights', w, image('face.png', 128, 128), image('wide.png', 256, 128), '--draw', out, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const pixels = (file: string): ((x: number, y: number) => number[]) => {
      const png = readImageFile(join(out, file));
      return (x, y) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
    };
    const face = pixels('face.png');
    expect(face(32, 64)).toEqual([255, 40, 40]);
    expect(face(96, 32)).toEqual([255, 40, 40]);
    expect(face(64, 100)).toEqual([255, 255, 255]);
    const wide = pixels('wide.png');
    expect(wide(96, 64)).toEqual([255, 40, 40]);
    expect(wide(160, 32)).toEqual([255, 40, 40]);
    expect(wide(32, 64)).toEqual([255, 255, 255]);
  });
});
