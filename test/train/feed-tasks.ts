// Small learnable tasks for every family of model the named feeds train: each writes a model and
// its data (safetensors, NumPy .npz, class folders of PNGs) into a folder and says how to train it
// and what its fitting metric must reach. Data is generated from a seed, so runs are repeatable.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import pngjs from 'pngjs';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { Rng } from '../../runtime/data/random.ts';
import type { HostTensor } from '../../runtime/tensor.ts';

export interface FeedTask {
  readonly name: string;
  /** The .cnn file. */
  readonly model: string;
  /** A standard-library model: its name in the file and the parameters that make it small. */
  readonly select?: { readonly model: string; readonly set: Readonly<Record<string, number>> };
  /** `--data` and any other options for `cnnc train`. */
  readonly args: readonly string[];
  /** The back end that trains it in the test: the reference executor unless the model is large enough to need wasm. */
  readonly backend: 'cpu' | 'wasm';
  /** The epoch line's metric that must beat `chance + margin` (or, `lower`, stay under `chance - margin`); none for losses no metric fits. */
  readonly metric?: string;
  readonly chance: number;
  readonly margin: number;
  readonly lower?: boolean;
}

/** One .npy file's bytes (version 1, little-endian, C order). */
export function npyBytes(descr: '<f4' | '<i8' | '|u1', shape: readonly number[], data: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

function writeNpz(path: string, arrays: Record<string, Uint8Array>): void {
  writeFileSync(path, zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, v]))));
}

const STDLIB = join(import.meta.dirname, '../../stdlib');

/** `--model NAME --set k=v ...` for a task on a standard-library model (nothing for its own file). */
export function modelArgs(task: FeedTask): string[] {
  if (!task.select) return [];
  return ['--model', task.select.model, ...Object.entries(task.select.set).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
}

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'F32', shape, data });

/** Class folders of 8x8 grey PNGs: class k is a bright bar at row/column position k, plus noise. */
export function writeClassFolders(root: string, classes: number, perClass: number, seed: number, noise = 0.35): void {
  const rng = Rng.seeded(seed);
  for (let k = 0; k < classes; k++) {
    const dir = join(root, `person_${k}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const png = new pngjs.PNG({ width: 8, height: 8 });
      for (let p = 0; p < 64; p++) {
        const [y, x] = [Math.floor(p / 8), p % 8];
        const on = k % 2 === 0 ? y === 2 + (k >> 1) * 2 || y === 3 + (k >> 1) * 2 : x === 2 + (k >> 1) * 2 || x === 3 + (k >> 1) * 2;
        const v = Math.max(0, Math.min(255, Math.round(255 * ((on ? 0.7 : 0.15) + noise * (rng.float() - 0.5)))));
        png.data[p * 4] = png.data[p * 4 + 1] = png.data[p * 4 + 2] = v;
        png.data[p * 4 + 3] = 255;
      }
      writeFileSync(join(dir, `${i}.png`), pngjs.PNG.sync.write(png));
    }
  }
}

const ENCODER = `block enc()(x) {
  x -> conv 8, 3x3, pad same -> relu -> maxpool 2x2 -> flatten -> dense 8 -> l2_normalize
}`;

/** Writes every task's model and data under `dir`. */
export function writeFeedTasks(dir: string): FeedTask[] {
  mkdirSync(dir, { recursive: true });
  const rng = Rng.seeded(2024);
  const model = (name: string, text: string) => {
    writeFileSync(join(dir, `${name}.cnn`), text);
    return join(dir, `${name}.cnn`);
  };
  const tasks: FeedTask[] = [];

  // Happy House (BCE) from an .npz a Keras user would have: x channels last, y uint8 (N, 1). The
  // model is the course's HappyModel (zero padding 3, a 7x7 convolution, batchnorm, ReLU, a 2x2
  // max pool, one sigmoid unit) on 16 x 16 pictures with 8 filters instead of 64 x 64 with 32.
  {
    const n = 192;
    const x = new Float32Array(n * 16 * 16 * 3);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let p = 0; p < 16 * 16 * 3; p++) x[i * 768 + p] = 0.6 * rng.float() + (y[i] && Math.floor(p / 48) < 8 && p % 3 === 0 ? 0.35 : 0);
    }
    writeNpz(join(dir, 'happy.npz'), { x: npyBytes('<f4', [n, 16, 16, 3], x), y: npyBytes('|u1', [n, 1], y) });
    const file = model('happy', 'model Happy {\n  input image: 16 x 16 x 3\n  zero_pad 3\n  conv 8, 7x7 -> batchnorm -> relu\n  maxpool 2x2\n  flatten\n  dense 1 -> sigmoid\n  loss binary_cross_entropy\n}\n');
    tasks.push({ name: 'binary cross-entropy (Happy House)', model: file, args: ['--data', `npz:${join(dir, 'happy.npz')}`, '--feed', 'image=x', '--feed', 'targets=y', '--epochs', '3', '--lr', '0.01'], backend: 'cpu', metric: 'binary accuracy', chance: 0.5, margin: 0.3 });
  }

  // The standard library's Landmarks on 16 x 16 pictures with 2 points: a face probability (BCE)
  // and the points of a bright 2x2 square (MSE) from one backbone.
  {
    const n = 192;
    const side = 16;
    const plane = side * side;
    const image = new Float32Array(n * 3 * plane);
    const face = new Float32Array(n);
    const points = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      face[i] = i % 2;
      const [px, py] = [2 + rng.int(side - 4), 2 + rng.int(side - 4)];
      for (let p = 0; p < 3 * plane; p++) image[i * 3 * plane + p] = 0.2 * rng.float();
      if (face[i]) {
        for (let c = 0; c < 3; c++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) image[(i * 3 + c) * plane + (py + dy) * side + px + dx] = 1;
        points.set([px / side, py / side, (px + 1) / side, (py + 1) / side], i * 4);
      } else {
        points.set([0.5, 0.5, 0.5, 0.5], i * 4);
      }
    }
    writeSafetensorsFile(join(dir, 'landmarks.safetensors'), { image: f32([n, 3, side, side], image), targets: f32([n, 1], face), landmarks: f32([n, 4], points) });
    // Chance for a regression: the MSE of always predicting the mean point.
    const mean = [0, 1, 2, 3].map((k) => points.filter((_, i) => i % 4 === k).reduce((a, b) => a + b, 0) / n);
    const variance = points.reduce((s, v, i) => s + (v - mean[i % 4]!) ** 2, 0) / points.length;
    tasks.push({
      name: 'regression (stdlib Landmarks)',
      model: join(STDLIB, 'localization.cnn'),
      select: { model: 'Landmarks', set: { size: side, points: 2 } },
      args: ['--data', `safetensors:${join(dir, 'landmarks.safetensors')}`, '--epochs', '12', '--optimizer', 'adam', '--lr', '0.003'],
      backend: 'wasm',
      metric: 'mse',
      chance: variance,
      margin: variance / 2,
      lower: true,
    });
  }

  // The standard library's ClassificationWithLocalization on 16 x 16 pictures, 2 classes:
  // targets [pc, bx, by, bh, bw, c1, c2]; half the pictures hold a 4x4 square whose brightness is its class.
  {
    const n = 192;
    const side = 16;
    const plane = side * side;
    const image = new Float32Array(n * 3 * plane);
    const targets = new Float32Array(n * 7);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 3 * plane; p++) image[i * 3 * plane + p] = 0.2 * rng.float();
      if (i % 2 === 0) continue; // no object: pc = 0, the rest is ignored
      const cls = rng.int(2);
      const [x, y] = [rng.int(side - 3), rng.int(side - 3)];
      for (let c = 0; c < 3; c++) for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) image[(i * 3 + c) * plane + (y + dy) * side + x + dx] = cls ? 1 : 0.6;
      targets.set([1, (x + 2) / side, (y + 2) / side, 4 / side, 4 / side, cls ? 0 : 1, cls ? 1 : 0], i * 7);
    }
    writeSafetensorsFile(join(dir, 'localization.safetensors'), { image: f32([n, 3, side, side], image), targets: f32([n, 7], targets) });
    tasks.push({
      name: 'localization (stdlib ClassificationWithLocalization)',
      model: join(STDLIB, 'localization.cnn'),
      select: { model: 'ClassificationWithLocalization', set: { size: side, classes: 2 } },
      args: ['--data', `safetensors:${join(dir, 'localization.safetensors')}`, '--epochs', '8', '--optimizer', 'adam', '--lr', '0.003'],
      backend: 'wasm',
      metric: 'object accuracy',
      chance: 0.5,
      margin: 0.3,
    });
  }

  // Triplets sampled from class folders (a Siamese encoder shared by three inputs).
  writeClassFolders(join(dir, 'people'), 4, 48, 5, 0.9);
  {
    const file = model('siamese', `${ENCODER}\nmodel Siamese {\n  input anchor: 8 x 8 x 1\n  input positive: 8 x 8 x 1\n  input negative: 8 x 8 x 1\n  share e = enc()\n  a = e(anchor)\n  p = e(positive)\n  n = e(negative)\n  output a, p, n\n  loss triplet(a, p, n, alpha 0.5)\n}\n`);
    tasks.push({ name: 'triplet (Siamese)', model: file, args: ['--data', `triplets:${join(dir, 'people')}@8x8x1`, '--epochs', '2', '--optimizer', 'adam', '--lr', '0.01'], backend: 'cpu', metric: 'triplet accuracy', chance: 0.5, margin: 0.3 });
    const verify = model('verify', `${ENCODER}\nmodel Verify {\n  input first: 8 x 8 x 1\n  input second: 8 x 8 x 1\n  share e = enc()\n  a = e(first)\n  b = e(second)\n  abs(a - b) as distance\n  dense 1 as logistic -> sigmoid\n  loss binary_cross_entropy\n}\n`);
    tasks.push({ name: 'face verification (pairs)', model: verify, args: ['--data', `pairs:${join(dir, 'people')}@8x8x1`, '--epochs', '6', '--optimizer', 'adam', '--lr', '0.02'], backend: 'cpu', metric: 'binary accuracy', chance: 0.5, margin: 0.2 });
  }

  // A YOLO-style detector of the standard library's Darknet units (3x3 convolution without bias,
  // batchnorm, leaky ReLU) on 16 x 16 pictures: a 4x4 grid, one anchor, two classes; one object per picture.
  {
    const n = 192;
    const image = new Float32Array(n * 256);
    const targets = new Float32Array(n * 7 * 16); // [7, 4, 4] per image (channels first)
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 256; p++) image[i * 256 + p] = 0.2 * rng.float();
      const [cx, cy, cls] = [rng.int(4), rng.int(4), rng.int(2)];
      for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) image[i * 256 + (cy * 4 + dy) * 16 + cx * 4 + dx] = cls ? 1 : 0.6;
      const cell = cy * 4 + cx;
      // YAD2K's target layout: mask, centre offset in the cell, log of the size over the anchor's (1 x 1 cell), one-hot class.
      [1, 0.375, 0.375, Math.log(0.75), Math.log(0.75), cls ? 0 : 1, cls ? 1 : 0].forEach((v, ch) => (targets[i * 112 + ch * 16 + cell] = v));
    }
    writeSafetensorsFile(join(dir, 'yolo.safetensors'), { image: f32([n, 1, 16, 16], image), targets: f32([n, 7, 4, 4], targets) });
    const file = model('yolo', 'import yolo\n\nmodel TinyYolo {\n  input image: 16 x 16 x 1\n  darknet_conv(8, 3) as conv1\n  maxpool 2x2\n  darknet_conv(16, 3) as conv2\n  maxpool 2x2\n  grid = conv 7, 1x1\n  loss yolo(grid, classes 2, anchors 1 x 1)\n}\n');
    tasks.push({ name: 'YOLO detector', model: file, args: ['--data', `safetensors:${join(dir, 'yolo.safetensors')}`, '--epochs', '4', '--optimizer', 'adam', '--lr', '0.01'], backend: 'cpu', metric: 'object cell accuracy', chance: 1 / 16, margin: 0.5 });
  }

  // The standard library's Heartbeat (conv1d, five residual blocks) on 125-sample signals, its
  // shortest, with 2 classes, from an .npz with integer labels: slow against fast sines.
  {
    const n = 192;
    const length = 125;
    const beat = new Float32Array(n * length);
    const labels = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = BigInt(i % 2);
      const f = i % 2 ? 0.9 : 0.25;
      const phase = rng.float() * 6.28;
      for (let t = 0; t < length; t++) beat[i * length + t] = Math.sin(f * t + phase) + 0.3 * (rng.float() - 0.5);
    }
    writeNpz(join(dir, 'beats.npz'), { beat: npyBytes('<f4', [n, 1, length], beat), labels: npyBytes('<i8', [n], labels) });
    tasks.push({
      name: 'conv1d (stdlib Heartbeat)',
      model: join(STDLIB, 'signals.cnn'),
      select: { model: 'Heartbeat', set: { length, classes: 2 } },
      args: ['--data', `npz:${join(dir, 'beats.npz')}`, '--epochs', '3', '--optimizer', 'adam', '--lr', '0.003'],
      backend: 'wasm',
      metric: 'accuracy',
      chance: 0.5,
      margin: 0.3,
    });
  }

  // conv3d on volumes, built as the standard library's CTVolume is (stages of 3x3x3 convolution,
  // ReLU, 2x2x2 max pool and batchnorm, global average pooling, a sigmoid unit) with one stage of
  // 4 filters on 8 x 8 x 8: does the volume hold a bright 3x3x3 blob?
  {
    const n = 128;
    const volume = new Float32Array(n * 512);
    const targets = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      targets[i] = i % 2;
      for (let p = 0; p < 512; p++) volume[i * 512 + p] = 0.5 * rng.float();
      if (!targets[i]) continue;
      const [z, y, x] = [rng.int(6), rng.int(6), rng.int(6)];
      for (let dz = 0; dz < 3; dz++) for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) volume[i * 512 + (z + dz) * 64 + (y + dy) * 8 + x + dx] += 0.25;
    }
    writeSafetensorsFile(join(dir, 'volumes.safetensors'), { scan: f32([n, 1, 8, 8, 8], volume), targets: f32([n, 1], targets) });
    const file = model('volume', 'import volumes\n\nmodel TinyCT {\n  input scan: 8 x 8 x 8 x 1\n  ct_stage(4) as stage1\n  global_avgpool\n  dense 1 -> sigmoid\n  loss binary_cross_entropy\n}\n');
    tasks.push({ name: 'conv3d (CTVolume\'s stages)', model: file, args: ['--data', `safetensors:${join(dir, 'volumes.safetensors')}`, '--epochs', '6', '--optimizer', 'adam', '--lr', '0.03'], backend: 'cpu', metric: 'binary accuracy', chance: 0.5, margin: 0.3 });
  }
  // Style transfer's losses as a weighted sum trained on targets: content and Gram matrices of a
  // fixed per-pixel map of the image (2x, 1 - x), which one 3x3 convolution can learn.
  {
    const n = 64;
    const image = new Float32Array(n * 64);
    const content = new Float32Array(n * 128);
    const style = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 64; p++) {
        const x = rng.float();
        image[i * 64 + p] = x;
        content[i * 128 + p] = 2 * x;
        content[i * 128 + 64 + p] = 1 - x;
      }
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
        let g = 0;
        for (let p = 0; p < 64; p++) g += content[i * 128 + a * 64 + p]! * content[i * 128 + b * 64 + p]!;
        style[i * 4 + a * 2 + b] = g;
      }
    }
    writeSafetensorsFile(join(dir, 'styled.safetensors'), { image: f32([n, 1, 8, 8], image), content_target: f32([n, 2, 8, 8], content), style_target: f32([n, 2, 2], style) });
    const file = model('styled', 'model Styled {\n  input image: 8 x 8 x 1\n  f = conv 2, 3x3, pad same\n  loss content(f) + 0.5 * style(f) + 0.01 * total_variation(f)\n}\n');
    tasks.push({ name: 'content + style + total variation (weighted)', model: file, args: ['--data', `safetensors:${join(dir, 'styled.safetensors')}`, '--epochs', '10', '--optimizer', 'adam', '--lr', '0.05'], backend: 'cpu', chance: 0, margin: 0 });
  }
  return tasks;
}
