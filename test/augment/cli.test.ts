// `cnnc augment` draws a grid of augmented examples (PCA colour and local warping included), and
// `cnnc train` names the augmentation in force in its header.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../runtime/images/png.ts';
import { cnnc } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-augment-'));

/** Two classes of 16x16 colour pictures with different hues. */
function colourFolder(): string {
  const root = join(dir, 'pictures');
  for (const [cls, hue] of [['warm', [0.9, 0.4, 0.1]], ['cool', [0.1, 0.5, 0.9]]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let k = 0; k < 3; k++) {
      const data = new Float32Array(3 * 256);
      for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) data[c * 256 + i] = hue[c] * (0.5 + 0.5 * Math.sin(i * 0.1 + k));
      writeFileSync(join(root, cls, `${k}.png`), encodePng({ data, channels: 3, height: 16, width: 16 }));
    }
  }
  return root;
}

function readPng(path: string): pngjs.PNG {
  return pngjs.PNG.sync.read(readFileSync(path));
}

describe('cnnc augment', () => {
  it('writes rows of an original and its augmented copies, with PCA colour and warping', () => {
    const out = join(dir, 'grid.png');
    const r = cnnc(['augment', '--data', `folder:${colourFolder()}@16x16x3`, '--augment', 'pca,warp,mirror,rotate,shear,color', '--pca-std', '2', '--warp-pixels', '3',
      '--rotate-degrees', '20', '--shear-factor', '0.3', '--color-shift', '0.05', '--examples', '2', '--copies', '3', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rotate ±20°, shear ±0\.3, warp ±3 px \(4x4 field\), mirror, color shift ±0\.05, pca std 2/);
    // Cells are 16 px scaled by 6 (to reach 96 px) with 4 px gaps: 4 columns, 2 rows.
    const png = readPng(out);
    expect([png.width, png.height]).toEqual([4 * 96 + 5 * 4, 2 * 96 + 3 * 4]);
    const cell = (row: number, col: number): number[] => {
      const at = ((4 + row * 100 + 48) * png.width + 4 + col * 100 + 48) * 4;
      return [...png.data.subarray(at, at + 3)];
    };
    expect(cell(0, 1)).not.toEqual(cell(0, 0));
  });

  it('rejects an unknown augmentation and PCA on grey images', () => {
    const unknown = cnnc(['augment', '--data', 'fashion-mnist-bundled', '--augment', 'blur', '-o', join(dir, 'x.png')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown augmentation 'blur' \(mirror, crop, rotate, shear, color, pca, warp\)/);
    const grey = cnnc(['augment', '--data', 'fashion-mnist-bundled', '--augment', 'pca', '-o', join(dir, 'x.png')]);
    expect(grey.code).toBe(2);
    expect(grey.stderr).toMatch(/pca needs RGB images, the data has 1 channel/);
    const orphan = cnnc(['augment', '--data', 'fashion-mnist-bundled', '--augment', 'mirror', '--rotate-degrees', '30', '-o', join(dir, 'x.png')]);
    expect([orphan.code, orphan.stderr.trim()]).toEqual([2, 'cnnc augment: --rotate-degrees sets rotate, which --augment mirror does not list']);
  });

  it('cnnc train prints the augmentation in force', () => {
    const r = cnnc(['train', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--data', 'fashion-mnist-bundled', '--limit', '32', '--batch', '32', '--epochs', '1', '--augment', 'warp,crop', '--crop-scale', '0.9', '--backend', 'cpu', '--out', join(dir, 'ckpt.safetensors')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^augmentation: warp ±2 px \(4x4 field\), crop 0\.9\.\.1 of each side$/m);
  });
});
