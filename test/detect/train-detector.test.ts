// Detection end to end: generated scenes, records with yolo targets, a few epochs of a
// tiny detector, and mAP@0.5 on held-out scenes far above the untrained model's. (The full-size
// figure, ShapesYolo on 96x96 scenes, is in docs/detection.md; it trains by hand.)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { loadFeedData } from '../../runtime/data/feed-data.ts';
import { RecordLoader } from '../../runtime/data/records.ts';
import { detectorOf } from '../../runtime/detect/detector.ts';
import { meanAveragePrecision } from '../../runtime/detect/map.ts';
import { DEFAULT_SCENES, writeScenes } from '../../runtime/detect/scenes.ts';
import { bindFeeds } from '../../runtime/train/bind-feeds.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { fit } from '../../runtime/train/fit.ts';
import { detectImages } from '../../cli/detect-eval.ts';

const TIMEOUT_MS = 240_000;
const dir = mkdtempSync(join(tmpdir(), 'cnnc-detector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCHS = Number(process.env.CNNC_DETECT_EPOCHS ?? 12);

// On the wasm back end (the same numerics as the CPU executor, checked elsewhere, and several
// times faster) the figures are the same on every run here: untrained 0.001, 0.41 after 12 epochs
// (0.49 after 24) in about 5 s on two cores; CNNC_DETECT_EPOCHS=N changes the count.
it(`a tiny detector trained ${EPOCHS} epochs: mAP@0.5 on held-out scenes far above the untrained model's`, async () => {
  writeScenes(dir, { train: 256, test: 64 }, 11, { ...DEFAULT_SCENES, size: 32, minObjects: 1, maxObjects: 2, minSide: 9, maxSide: 14, maxOverlap: 0, classes: 2 });
  const graph = compileModel({ file: resolve('test/detect/models/tiny.cnn') }).graph!;
  const det = detectorOf(graph)!;
  const spec = `yolo:${dir}`;
  const data = loadFeedData(spec, graph);
  if (data.kind !== 'records') throw new Error('detection data should be records');
  const session = await createSession(graph, { batch: 16, optimizer: { kind: 'adam', lr: 0.02 }, backend: 'wasm', seed: 0 });
  try {
    const map50 = async (): Promise<number> => meanAveragePrecision((await detectImages(session, det, spec, undefined, 16)).results, 2).map50;
    const untrained = await map50();
    const bindings = bindFeeds(graph, data.train.fields, new Map(), dir);
    await fit(session, new RecordLoader(data.train, { batchSize: 16, seed: 1, shuffle: true, dropLast: true }), { epochs: EPOCHS, bindings });
    const trained = await map50();
    expect(untrained).toBeLessThan(0.02);
    expect(trained).toBeGreaterThan(0.25);
    expect(trained).toBeGreaterThan(20 * untrained);
  } finally {
    session.dispose();
  }
}, TIMEOUT_MS);
