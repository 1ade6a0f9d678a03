// Resume stays exact on named feeds: a three-input triplet model trained on triplets sampled from
// class folders, stopped mid-epoch (as Ctrl-C stops it) and resumed in a fresh session, ends with
// the weights of an uninterrupted run, bit for bit on the CPU: the sampled partners come back too.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { tripletRecords } from '../../runtime/data/class-pairs.ts';
import { ImageFolderDataset } from '../../runtime/data/image-folder.ts';
import { RecordLoader } from '../../runtime/data/records.ts';
import { bindFeeds } from '../../runtime/train/bind-feeds.ts';
import { createSession } from '../../runtime/train/create-session.ts';
import { fit, sessionStateFrom } from '../../runtime/train/fit.ts';
import { writeClassFolders, writeFeedTasks } from './feed-tasks.ts';

describe('resume on named feeds', () => {
  it('a triplet model stopped mid-epoch resumes to the same weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-feeds-resume-'));
    const model = writeFeedTasks(join(dir, 'tasks')).find((t) => t.metric === 'triplet accuracy')!.model;
    writeClassFolders(join(dir, 'faces'), 3, 16, 7, 0.9);
    const graph = compileModel({ file: model }).graph!;
    const records = tripletRecords(new ImageFolderDataset(join(dir, 'faces'), { height: 8, width: 8, channels: 1 }), 'faces');
    const bindings = bindFeeds(graph, records.fields, new Map(), 'faces');
    const pipeline = { batchSize: 8, seed: 4, dropLast: true };
    const open = (seed: number) => createSession(graph, { batch: 8, optimizer: { kind: 'adam', lr: 0.01 }, backend: 'cpu', seed });

    const straight = await open(1);
    await fit(straight, new RecordLoader(records, pipeline), { epochs: 2, bindings });
    const expected = (await straight.saveState()).weights;

    const checkpoint = join(dir, 'ckpt.safetensors');
    const first = await open(1);
    let steps = 0;
    const stopped = await fit(first, new RecordLoader(records, pipeline), { epochs: 2, bindings, checkpoint, onProgress: () => steps++, shouldStop: () => steps >= 8 });
    expect(stopped.kind).toBe('interrupted');
    const ckpt = loadCheckpoint(checkpoint);
    expect(ckpt.position.epoch).toBe(1);
    expect(ckpt.position.batchInEpoch).toBeGreaterThan(0);

    const second = await open(99);
    await second.loadState(sessionStateFrom(ckpt.weights, ckpt.optimizer, checkpoint));
    const { epoch, batchInEpoch, rng } = ckpt.position;
    const resumed = await fit(second, new RecordLoader(records, pipeline, { epoch, batchInEpoch, rng }), { epochs: 2, bindings, step: ckpt.position.step });
    expect(resumed).toMatchObject({ kind: 'done', step: 12 });
    const got = (await second.saveState()).weights;
    for (const [name, value] of expected) expect(Buffer.from(got.get(name)!.buffer).equals(Buffer.from(value.buffer)), name).toBe(true);
    [straight, first, second].forEach((s) => s.dispose());
  });
});
