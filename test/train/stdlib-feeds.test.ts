// Every standard-library model with a loss has feeds and compiles to a bundle (a quick subset in
// CI, all of them with CNNC_LONG=1); with CNNC_LONG=1 the course's Landmarks and localization
// models also train two steps through `cnnc train` on generated data.

import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileBundle } from '../../compiler/emit-ts/bundle-spec.ts';
import { compileModel } from '../../compiler/program.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { Rng } from '../../runtime/data/random.ts';
import { modelFeeds } from '../../compiler/feeds.ts';
import { cnnc } from '../support/cli.ts';

const LONG = process.env.CNNC_LONG === '1';
const QUICK = new Set(['ClassificationWithLocalization', 'Landmarks', 'YOLOv2', 'StyleTransfer', 'CTVolume', 'Heartbeat']);
const STDLIB = join(import.meta.dirname, '../../stdlib');

const models = readdirSync(STDLIB).flatMap((file) => [...readFileSync(join(STDLIB, file), 'utf8').matchAll(/^model (\w+)/gm)].map((m) => ({ file: join(STDLIB, file), model: m[1]! })));

describe('standard-library models on named feeds', () => {
  it(`compile to bundles with every input and target as a feed (${LONG ? 'all' : 'a quick subset; CNNC_LONG=1 for all'})`, () => {
    let compiled = 0;
    for (const { file, model } of models) {
      if (!LONG && !QUICK.has(model)) continue;
      const graph = compileModel({ file, model }).graph!;
      if (graph.loss.length === 0) continue;
      const spec = compileBundle(graph, { batch: 1, optimizer: { kind: 'sgd', lr: 0.01 } }).spec;
      expect(spec.feeds.filter((f) => f.kind !== 'seed').map((f) => f.name), model).toEqual(modelFeeds(graph).map((f) => f.name));
      compiled++;
    }
    expect(compiled).toBeGreaterThanOrEqual(QUICK.size);
  }, 120_000);

  it.skipIf(!LONG)('Landmarks and ClassificationWithLocalization train through cnnc train', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-stdlib-feeds-'));
    const rng = Rng.seeded(3);
    const n = 8;
    const values = (k: number) => Float32Array.from({ length: k }, () => rng.float());
    const image = { dtype: 'F32' as const, shape: [n, 3, 64, 64], data: values(n * 3 * 64 * 64) };
    writeSafetensorsFile(join(dir, 'landmarks.safetensors'), { image, targets: { dtype: 'F32', shape: [n, 1], data: values(n) }, landmarks: { dtype: 'F32', shape: [n, 128], data: values(n * 128) } });
    const boxes = Float32Array.from({ length: n * 8 }, (_, i) => (i % 8 === 0 ? (i / 8) % 2 : i % 8 < 5 ? rng.float() : i % 8 === 5 ? 1 : 0));
    writeSafetensorsFile(join(dir, 'boxes.safetensors'), { image, targets: { dtype: 'F32', shape: [n, 8], data: boxes } });
    for (const [model, data, term] of [['Landmarks', 'landmarks', /mse\(landmarks\) [\d.]+/], ['ClassificationWithLocalization', 'boxes', /object accuracy [\d.]+%/]] as const) {
      const r = cnnc(['train', join(STDLIB, 'localization.cnn'), '--model', model, '--data', `safetensors:${join(dir, `${data}.safetensors`)}`, '--batch', '4', '--epochs', '1', '--backend', 'cpu', '--out', join(dir, `${model}.ckpt`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(term);
    }
  }, 300_000);
});
