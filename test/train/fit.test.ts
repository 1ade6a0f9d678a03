// Training end to end on the real bundled Fashion-MNIST, on the CPU reference executor: it learns,
// resume continues exactly, and a diverging run stops cleanly with the last good checkpoint kept.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { subset, type Dataset } from '../../runtime/data/dataset.ts';
import { imageBatchSource, imageRecords } from '../../runtime/data/image-records.ts';
import { BatchLoader, type PipelineOptions, type StreamState } from '../../runtime/data/pipeline.ts';
import { loadData } from '../../runtime/data/spec.ts';
import type { OptimizerConfig } from '../../compiler/optim/optimizers.ts';
import { bindFeeds } from '../../runtime/train/bind-feeds.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { evaluateRecords, fit, sessionStateFrom } from '../../runtime/train/fit.ts';

const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
const data = loadData('fashion-mnist-bundled');
const train = subset(data.train, 0, 1024);
const test = subset(data.test!, 0, 500);
const BATCH = 32;
const pipeline: PipelineOptions = { batchSize: BATCH, seed: 7, dropLast: true, fit: { height: 32, width: 32 } };
const testRecords = imageRecords(test, { fit: { height: 32, width: 32 } });
const bindings = bindFeeds(graph, testRecords.fields, new Map(), 'fashion-mnist-bundled');
/** The image pipeline's batches as field batches. */
const loaderOf = (ds: Dataset, state?: StreamState) => imageBatchSource(new BatchLoader(ds, pipeline, state));
const adam: OptimizerConfig = { kind: 'adam', lr: 0.002 };
const tmp = () => mkdtempSync(join(tmpdir(), 'cnnc-train-'));

describe('training LeNet-5 on Fashion-MNIST', () => {
  it('reaches an accuracy far above chance on held-out data', async () => {
    const session = await createSession(graph, { batch: BATCH, optimizer: adam, backend: 'cpu', seed: 1 });
    expect(session.metrics.map((m) => m.name)).toEqual(['accuracy']);
    const before = await evaluateRecords(session, testRecords, bindings);
    const outcome = await fit(session, loaderOf(train), { epochs: 3, bindings, test: testRecords });
    expect(outcome.kind).toBe('done');
    const after = outcome.epochs.at(-1)!;
    expect(before.metrics[0]).toBeLessThan(0.3);
    expect(after.test!.metrics[0]).toBeGreaterThan(0.6); // chance is 0.1
    expect(after.loss).toBeLessThan(outcome.epochs[0].loss);
    session.dispose();
  });

  it('resuming from a mid-epoch checkpoint ends with the same weights as an uninterrupted run', async () => {
    const dir = tmp();
    const straight = await createSession(graph, { batch: BATCH, optimizer: adam, backend: 'cpu', seed: 3 });
    await fit(straight, loaderOf(train), { epochs: 2, bindings });
    const expected = (await straight.saveState()).weights;

    // First run: stop after 40 steps (epoch 2, batch 8), as Ctrl-C would; the step already in
    // flight (pipelined one ahead) is finished first.
    const checkpoint = join(dir, 'ckpt.safetensors');
    const first = await createSession(graph, { batch: BATCH, optimizer: adam, backend: 'cpu', seed: 3 });
    let steps = 0;
    const stopped = await fit(first, loaderOf(train), { epochs: 2, bindings, checkpoint, onProgress: () => steps++, shouldStop: () => steps >= 40 });
    expect(stopped.kind).toBe('interrupted');
    const stoppedAt = stopped.step;
    expect(stoppedAt === 40 || stoppedAt === 41).toBe(true);

    // Second run: a fresh session (other initial weights) resumes from the file.
    const ckpt = loadCheckpoint(checkpoint);
    expect(ckpt.position).toMatchObject({ epoch: 1, batchInEpoch: stoppedAt - 32, step: stoppedAt });
    const second = await createSession(graph, { batch: BATCH, optimizer: adam, backend: 'cpu', seed: 99 });
    await second.loadState(sessionStateFrom(ckpt.weights, ckpt.optimizer, checkpoint));
    const { epoch, batchInEpoch, rng } = ckpt.position;
    const resumed = await fit(second, loaderOf(train, { epoch, batchInEpoch, rng }), { epochs: 2, bindings, step: ckpt.position.step });
    expect(resumed).toMatchObject({ kind: 'done', step: 64 });
    const got = (await second.saveState()).weights;
    for (const [name, value] of expected) expect(Array.from(got.get(name)!), name).toEqual(Array.from(value));
    [straight, first, second].forEach((s) => s.dispose());
  });

  it('a diverging run stops at the first non-finite loss and keeps the last good checkpoint', async () => {
    const dir = tmp();
    const checkpoint = join(dir, 'ckpt.safetensors');
    const good = await createSession(graph, { batch: BATCH, optimizer: adam, backend: 'cpu', seed: 5 });
    await fit(good, loaderOf(subset(train, 0, 64)), { epochs: 1, bindings, checkpoint });
    const saved = readFileSync(checkpoint);

    const ckpt = loadCheckpoint(checkpoint);
    const wild = await createSession(graph, { batch: BATCH, optimizer: { kind: 'sgd', lr: 1e12 }, backend: 'cpu', seed: 5 });
    await wild.loadState(sessionStateFrom(ckpt.weights, new Map(), checkpoint));
    const outcome = await fit(wild, loaderOf(train), { epochs: 5, bindings, checkpoint });
    expect(outcome.kind).toBe('diverged');
    if (outcome.kind !== 'diverged') return;
    expect(outcome.message).toMatch(/^the loss became (NaN|Infinity|-Infinity) at step \d+ \(epoch 1, batch \d+\); training stopped; the last good checkpoint, .*ckpt\.safetensors, is kept/);
    expect(outcome.step).toBeLessThan(32);
    expect(readFileSync(checkpoint).equals(saved)).toBe(true);
    [good, wild].forEach((s) => s.dispose());
  });
});
