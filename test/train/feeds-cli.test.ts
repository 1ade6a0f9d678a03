// Named feeds through the public `cnnc train` command: every family of model the checker accepts
// trains on small generated data (Happy House's BCE, the standard library's Landmarks,
// ClassificationWithLocalization and Heartbeat at small sizes, a Siamese triplet model, a
// FaceVerification-style pair model, a Darknet YOLO head, CTVolume's conv3d stages, style
// transfer's losses), its loss falls well below its start and its fitting metric beats chance by
// a stated margin; resume is exact for a multi-input model; bad feeds end in one line, exit 1,
// nothing written; eval and predict run any model; `cnnc build` bundles every family.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuild } from '../../cli/build.ts';
import { modelFeeds } from '../../compiler/feeds.ts';
import { namedOutputs } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { loadCheckpoint, readSafetensorsFile } from '../../runtime/checkpoint.ts';
import { CNNC } from '../support/cli.ts';
import { modelArgs, npyBytes, writeClassFolders, writeFeedTasks, type FeedTask } from './feed-tasks.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-feeds-'));
const tasks = writeFeedTasks(dir);

/** `cnnc ARGS` in a child process, without blocking the other concurrent tests. */
function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CNNC, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const train = (model: string, args: readonly string[], out: string, backend = 'cpu') => run(['train', model, ...args, '--backend', backend, '--batch', '32', '--out', out]);
/** A task's model trained on `args` (its data and options unless given). */
const trainTask = (task: FeedTask, out: string, args = task.args) => train(task.model, [...modelArgs(task), ...args], out, task.backend);

describe('cnnc train on named feeds', () => {
  for (const task of tasks) {
    it.concurrent(`${task.name}: the loss falls${task.metric ? ` and ${task.metric} beats chance` : ''}`, async () => {
      const r = await trainTask(task, join(dir, `${task.select?.model ?? task.model.split('/').at(-1)}.ckpt.safetensors`));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^feeds: .+ <- .+/m);
      const start = Number(/ 1\/\d+ +loss ([\d.]+)/.exec(r.stderr)![1]);
      const lines = r.stderr.split('\n').filter((l) => /^epoch \d+\/\d+: /.test(l));
      const last = lines.at(-1)!;
      const end = Number(/: loss ([\d.]+)/.exec(last)![1]);
      expect(end, last).toBeLessThan(0.6 * start);
      // The progress bar shows each term of a weighted sum, as the epoch line does.
      const bar = r.stderr.split('\n').find((l) => / 1\/\d+ +loss /.test(l))!;
      for (const [, term] of last.matchAll(/(\w+\([\w, .]+\)) [\d.]+/g)) expect(bar, last).toMatch(new RegExp(`${term!.replace(/[().]/g, '\\$&')} [\\d.]+`));
      if (!task.metric) {
        // No metric fits: the line shows each weighted term instead.
        expect(last).toMatch(/: loss [\d.]+ \(\w+\(\w+\) [\d.]+( \+ [\d.]+ \* \w+\(\w+\) [\d.]+)+\)/);
        return;
      }
      const m = new RegExp(`, ${task.metric} ([\\d.]+)(%?)`).exec(last);
      expect(m, last).not.toBeNull();
      const value = Number(m![1]) / (m![2] ? 100 : 1);
      if (task.lower) expect(value, last).toBeLessThan(task.chance - task.margin);
      else expect(value, last).toBeGreaterThan(task.chance + task.margin);
    });
  }

  it('cnnc build writes a bundle for every family, typed by its own inputs, targets and outputs', async () => {
    for (const task of tasks) {
      const graph = compileModel({ file: task.model, model: task.select?.model, overrides: task.select?.set }).graph!;
      const out = join(dir, 'bundles', graph.name);
      expect(await runBuild([task.model, ...modelArgs(task), '--batch', '4', '--optimizer', 'adam', '--lr', '0.01', '-o', out]), task.name).toBe(0);
      const code = readFileSync(join(out, `${graph.name}.ts`), 'utf8');
      const members = (type: string) => [...new RegExp(`export interface ${graph.name}${type} \\{([^}]*)\\}`).exec(code)![1]!.matchAll(/^ {2}'?([\w:.]+)'?: (?:Float32Array|ArrayLike<number>);/gm)].map((m) => m[1]);
      expect(members('Feeds'), task.name).toEqual(modelFeeds(graph).map((f) => f.name));
      expect(members('Inputs'), task.name).toEqual(graph.inputs.filter((i) => !i.trainable).map((i) => i.name));
      expect(members('Outputs'), task.name).toEqual(namedOutputs(graph).map((o) => o.name));
      // `output a, p, n` after `a = e(anchor)`: the names the model file gives, not the encoder's last layer.
      if (task.metric === 'triplet accuracy') expect(members('Outputs')).toEqual(['a', 'p', 'n']);
    }
  });

  it.concurrent('--resume continues a multi-input model bit for bit', async () => {
    const siamese = tasks.find((t) => t.metric === 'triplet accuracy')!;
    const args = siamese.args.filter((a, i, all) => a !== '--epochs' && all[i - 1] !== '--epochs');
    const straight = join(dir, 'straight.safetensors');
    const split = join(dir, 'split.safetensors');
    const [a, b] = await Promise.all([train(siamese.model, [...args, '--epochs', '2'], straight), train(siamese.model, [...args, '--epochs', '1'], split)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const c = await train(siamese.model, [...args, '--epochs', '2', '--resume', split], split);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/resuming from .* at the start of epoch 2/);
    const [x, y] = [loadCheckpoint(straight), loadCheckpoint(split)];
    expect([...y.weights.keys()]).toEqual([...x.weights.keys()]);
    for (const [name, t] of x.weights) expect(Buffer.from((y.weights.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
  });

  it.concurrent('bad feeds end in one line, exit 1, and write no checkpoint', async () => {
    const beat = tasks.find((t) => t.select?.model === 'Heartbeat')!;
    const happy = tasks.find((t) => t.metric === 'binary accuracy')!;
    const floatLabels = join(dir, 'float-labels.npz');
    const wideLabels = join(dir, 'wide-labels.safetensors');
    const notZip = join(dir, 'not-a-zip.npz');
    writeFileSync(notZip, 'this is not a zip archive');
    const { zipSync } = await import('fflate');
    const beats = new Float32Array(8 * 125);
    writeFileSync(floatLabels, zipSync({ 'beat.npy': npyBytes('<f4', [8, 1, 125], beats), 'labels.npy': npyBytes('<f4', [8], new Float32Array(8)) }));
    const { writeSafetensorsFile } = await import('../../runtime/checkpoint.ts');
    writeSafetensorsFile(wideLabels, { beat: { dtype: 'F32', shape: [8, 1, 125], data: beats }, labels: { dtype: 'I32', shape: [8], data: Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]) } });
    const existing = join(dir, 'existing.safetensors');
    writeFileSync(existing, 'previous checkpoint');
    const cases: [FeedTask, string[], RegExp][] = [
      [happy, ['--data', happy.args[1]!, '--feed', 'image=nope'], /no field 'nope' for model Happy's input 'image'; the data has x, y/],
      [happy, ['--data', happy.args[1]!], /no field for model Happy's input 'image' \(16 x 16 x 3\); the data has x, y; name one with --feed image=FIELD/],
      [beat, ['--data', happy.args[1]!, '--feed', 'beat=x', '--feed', 'labels=y'], /happy\.npz: field 'x' holds N x 16 x 16 x 3 \(16 x 16 x 3 per example if channels last, 16 x 3 x 16 if channels first\); model Heartbeat's input 'beat' is 125 x 1 per example \(N x 1 x 125 channels first or N x 125 x 1 channels last\)/],
      [beat, ['--data', `npz:${floatLabels}`], /field 'labels' holds floating-point values; model Heartbeat's target 'labels' of cross_entropy\(.*\) needs integer class indices/],
      [beat, ['--data', `safetensors:${wideLabels}`], /field 'labels' has class labels up to 4; model Heartbeat's target 'labels' .* has 2 classes \(0\.\.1\)/],
      [beat, ['--data', `npz:${notZip}`], /not-a-zip\.npz: not a NumPy \.npz archive \(not a zip file\)/],
    ];
    const results = await Promise.all(cases.map(([task, args]) => trainTask(task, existing, args)));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^cnnc train: /);
      expect(r.stderr).toMatch(cases[i]![2]);
    });
    expect(readFileSync(existing, 'utf8')).toBe('previous checkpoint');
  });

  it.concurrent('eval shows every term and metric; predict writes any model\'s outputs by name, as JSON or safetensors', async () => {
    const landmarks = tasks.find((t) => t.metric === 'mse')!;
    const siamese = tasks.find((t) => t.metric === 'triplet accuracy')!;
    const weights = join(dir, 'landmarks-predict.safetensors');
    const siameseWeights = join(dir, 'siamese-predict.safetensors');
    const [t0, t1] = await Promise.all([
      trainTask(landmarks, weights, [...landmarks.args.slice(0, 2), '--epochs', '1']),
      trainTask(siamese, siameseWeights, [...siamese.args.slice(0, 2), '--epochs', '1']),
    ]);
    expect(t0.code, t0.stderr).toBe(0);
    expect(t1.code, t1.stderr).toBe(0);
    const [json, tensors] = [join(dir, 'outputs.json'), join(dir, 'outputs.safetensors')];
    const model = [landmarks.model, ...modelArgs(landmarks), '--weights', weights, '--data', landmarks.args[1]!, '--backend', landmarks.backend];
    const siameseOut = join(dir, 'siamese-outputs.safetensors');
    const [e, p, q, s] = await Promise.all([
      run(['eval', ...model]),
      run(['predict', ...model, '--out', json]),
      run(['predict', ...model, '--out', tensors]),
      run(['predict', siamese.model, '--weights', siameseWeights, '--data', siamese.args[1]!, '--backend', siamese.backend, '--out', siameseOut]),
    ]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^loss [\d.]+ \(binary_cross_entropy\(face\) [\d.]+ \+ mse\(landmarks\) [\d.]+\)\nbinary accuracy [\d.]+%\nmse [\d.]+\nmae [\d.]+\n$/);
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8')) as Record<string, { shape: number[]; values: number[][] }>;
    expect(out.face!.shape).toEqual([192, 1]);
    expect(out.landmarks!.shape).toEqual([192, 4]);
    expect(out.landmarks!.values[0]).toHaveLength(4);
    expect(q.code, q.stderr).toBe(0);
    const written = readSafetensorsFile(tensors).tensors;
    expect([...written].map(([k, v]) => [k, v.shape])).toEqual([['face', [192, 1]], ['landmarks', [192, 4]]]);
    expect(Array.from(written.get('landmarks')!.data.slice(0, 4) as Float32Array)).toEqual(out.landmarks!.values[0]);
    // `output a, p, n` after `a = e(anchor)`: each output under the name the model file gives it.
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/Siamese: a, p, n of 192 example\(s\) written/);
    expect(Object.fromEntries([...readSafetensorsFile(siameseOut).tensors].map(([k, v]) => [k, v.shape]))).toEqual({ a: [192, 8], p: [192, 8], n: [192, 8] });
  });

  it.concurrent('a class folder: --limit and --val pick every class in proportion; predict names classes from the checkpoint', async () => {
    const people = join(dir, 'classes');
    writeClassFolders(people, 3, 24, 9);
    const model = join(dir, 'classify.cnn');
    writeFileSync(model, 'model Classify {\n  input image: 8 x 8 x 1\n  flatten\n  dense 3 -> softmax\n  loss cross_entropy\n}\n');
    const ckpt = join(dir, 'classify.safetensors');
    // The folder is sorted by class: the first N files would all be person_0.
    const t = await train(model, ['--data', `folder:${people}@8x8x1`, '--limit', '48', '--val', '0.25', '--epochs', '1'], ckpt);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/72 images, 3 classes, fitted to 8x8x1; a stratified sample of 48 \(seed 0\); 36 for training, 12 held out for validation \(stratified, seed 0\)/);
    const [ev, c] = await Promise.all([
      run(['eval', model, '--weights', ckpt, '--data', `folder:${people}@8x8x1`, '--limit', '6', '--backend', 'cpu']),
      run(['predict', model, '--weights', ckpt, join(people, 'person_1', '0.png'), '--top', '3', '--backend', 'cpu']),
    ]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/; a stratified sample of 6 \(seed 0\); 6 examples\n/);
    const rows = [...ev.stdout.matchAll(/^\d (person_\d) +((?:\d+ +)*\d+)$/gm)].map((m) => [m[1], m[2]!.split(/ +/).reduce((a, v) => a + Number(v), 0)]);
    expect(rows, ev.stdout).toEqual([['person_0', 2], ['person_1', 2], ['person_2', 2]]);
    expect(c.code, c.stderr).toBe(0);
    // Class names come from the checkpoint's metadata: no --class-names given.
    expect(c.stdout).toMatch(/\d+\.\d+% +1 person_1/);
  });
});
