// `--save-every STEPS`: checkpoints mid-epoch, and a run killed after one resumes from it to the
// same weights, bit for bit, as a run never interrupted (issue 13). A small dense model keeps it fast.

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { checkResumable, loadCheckpoint } from '../../runtime/checkpoint.ts';
import { subset } from '../../runtime/data/dataset.ts';
import { imageBatchSource, imageRecords } from '../../runtime/data/image-records.ts';
import { BatchLoader, type PipelineOptions, type StreamState } from '../../runtime/data/pipeline.ts';
import { bindFeeds } from '../../runtime/train/bind-feeds.ts';
import { loadData } from '../../runtime/data/spec.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { fit, sessionStateFrom } from '../../runtime/train/fit.ts';

const graph = compileModel({ file: '/virtual/small.cnn', text: 'model Small {\n  input x: 28 x 28 x 1\n  flatten\n  dense 16 -> relu\n  dense 10 -> softmax\n  loss cross_entropy\n}\n', readText: () => undefined }).graph!;
const train = subset(loadData('fashion-mnist-bundled').train, 0, 256);
const BATCH = 32; // 8 steps per epoch
const pipeline: PipelineOptions = { batchSize: BATCH, seed: 11, dropLast: true };
const bindings = bindFeeds(graph, imageRecords(train, {}).fields, new Map(), 'fashion-mnist-bundled');
const loaderOf = (state?: StreamState) => imageBatchSource(new BatchLoader(train, pipeline, state));
const options = { batch: BATCH, optimizer: { kind: 'adam', lr: 0.01 } as const, backend: 'cpu' as const };

class Killed extends Error {}

describe('--save-every', () => {
  it('a run killed after a mid-epoch save resumes to the weights of an uninterrupted run', async () => {
    const straight = await createSession(graph, { ...options, seed: 3 });
    await fit(straight, loaderOf(), { epochs: 2, bindings });
    const expected = (await straight.saveState()).weights;

    // Saves after steps 5, 10 (epoch 2, batch 2); killed during step 12, before any epoch-end save of epoch 2.
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'cnnc-save-every-')), 'ckpt.safetensors');
    const first = await createSession(graph, { ...options, seed: 3 });
    let steps = 0;
    await expect(
      fit(first, loaderOf(), {
        epochs: 2,
        bindings,
        checkpoint,
        saveEvery: 5,
        onProgress: () => {
          if (++steps === 12) throw new Killed('kill -9');
        },
      }),
    ).rejects.toThrow(Killed);
    expect(existsSync(checkpoint)).toBe(true);
    const ckpt = loadCheckpoint(checkpoint);
    expect(ckpt.position).toMatchObject({ epoch: 1, batchInEpoch: 2, step: 10 });

    const second = await createSession(graph, { ...options, seed: 99 });
    checkResumable(ckpt, second.shapes, checkpoint, graph.name);
    await second.loadState(sessionStateFrom(ckpt.weights, ckpt.optimizer, checkpoint));
    const { epoch, batchInEpoch, rng } = ckpt.position;
    const resumed = await fit(second, loaderOf({ epoch, batchInEpoch, rng }), { epochs: 2, bindings, step: ckpt.position.step });
    expect(resumed).toMatchObject({ kind: 'done', step: 16 });
    const got = (await second.saveState()).weights;
    for (const [name, value] of expected) expect(Array.from(got.get(name)!), name).toEqual(Array.from(value));
    [straight, first, second].forEach((s) => s.dispose());
  });
});
