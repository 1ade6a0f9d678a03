// `cnnc train`, `eval` and `predict` through the real binary, as the README runs them: the
// progress bar and summary, Ctrl-C saving a checkpoint that --resume continues, and a process
// killed while it trains leaving a checkpoint that still loads.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../runtime/checkpoint.ts';
import { cnnc, CNNC } from '../support/cli.ts';

const TRAIN = ['train', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--data', 'fashion-mnist-bundled', '--backend', 'cpu', '--batch', '32'];

/** Starts `cnnc train`, calls `act` once stderr matches `when`, resolves with the exit code and output. */
function trainUntil(args: string[], when: RegExp, act: (pid: number) => void): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CNNC, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let acted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!acted && when.test(stderr)) {
        acted = true;
        act(child.pid!);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('cnnc train from the command line', () => {
  it('trains with a progress bar and prints a summary; eval and predict read the checkpoint', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cnnc-cli-')), 'lenet.safetensors');
    const r = cnnc([...TRAIN, '--epochs', '1', '--limit', '640', '--optimizer', 'adam', '--lr', '0.002', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/device: cpu \(reference executor\)/);
    expect(r.stderr).toMatch(/epoch 1\/1 +\[=+\] +20\/20 +loss \d\.\d{4} +acc \d+\.\d% +[\d.,]+ img\/s +ETA/);
    expect(r.stdout).toMatch(/trained LeNet5 for 1 epoch\(s\), 20 steps/);
    const accuracy = Number(/test loss [\d.]+, accuracy ([\d.]+)%/.exec(r.stdout)![1]);
    expect(accuracy).toBeGreaterThan(40);

    const e = cnnc(['eval', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--weights', out, '--data', 'fashion-mnist-bundled', '--backend', 'cpu']);
    expect(e.code).toBe(0);
    expect(Number(/accuracy ([\d.]+)%/.exec(e.stdout)![1])).toBeCloseTo(accuracy, 1);
    expect(e.stdout).toContain('confusion matrix');

    const bad = cnnc(['eval', 'stdlib/lenet5.cnn', '--weights', out, '--data', 'fashion-mnist-bundled', '--backend', 'cpu']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/the data has 1 channel\(s\), model LeNet5 expects 3; try --set channels=1|conv_1\.weight is \[6, 1, 5, 5\]/);
  });

  it('Ctrl-C saves a checkpoint mid-epoch and --resume continues from it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cnnc-cli-')), 'ckpt.safetensors');
    const r = await trainUntil([...TRAIN, '--epochs', '2', '--limit', '960', '--out', out], /epoch 1\/2 .* 1[0-9]\/30 /, (pid) => process.kill(pid, 'SIGINT'));
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Continue with --resume/);
    const position = loadCheckpoint(out).position;
    expect(position.epoch).toBe(0);
    expect(position.batchInEpoch).toBeGreaterThan(9);
    const resumed = cnnc([...TRAIN, '--epochs', '2', '--limit', '960', '--out', out, '--resume', out]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming from ${out} at epoch 1, batch ${position.batchInEpoch + 1} (step ${position.batchInEpoch})`);
    expect(resumed.stdout).toMatch(/trained LeNet5 for 2 epoch\(s\), 60 steps/);
  });

  it('a process killed while training leaves a checkpoint that loads', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cnnc-cli-')), 'ckpt.safetensors');
    // Killed (SIGKILL: no handler runs) during the second epoch, after the first checkpoint.
    const r = await trainUntil([...TRAIN, '--epochs', '3', '--limit', '320', '--out', out], /epoch 2\/3 .* [1-9]\/10 /, (pid) => process.kill(pid, 'SIGKILL'));
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(true);
    // The first epoch's checkpoint: its 10 batches done.
    expect(loadCheckpoint(out).position).toMatchObject({ epoch: 0, batchInEpoch: 10, step: 10 });
  });

  it('trains with the default backend (auto), naming the device it chose and why', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cnnc-cli-')), 'auto.safetensors');
    const r = cnnc(['train', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--data', 'fashion-mnist-bundled', '--epochs', '1', '--limit', '128', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^device: (webgpu: .+|wasm \(\d+ threads?\) \((no WebGPU adapter found.*|the only WebGPU adapter, .+, is a software one.*)\))$/m);
    expect(r.stdout).toMatch(/trained LeNet5 for 1 epoch\(s\), 2 steps/);
  });

  it('rejects bad options with exit 2 and a clear message', () => {
    expect(cnnc(['train', 'stdlib/lenet5.cnn'])).toMatchObject({ code: 2, stderr: expect.stringContaining('needs --data') });
    expect(cnnc([...TRAIN, '--epochs', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining("--epochs expects a whole number of at least 1, got 'x'") });
    expect(cnnc([...TRAIN, '--optimizer', 'lbfgs'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--optimizer expects') });
    expect(cnnc(['train', 'stdlib/lenet5.cnn', '--data', 'mnist'])).toMatchObject({ code: 2, stderr: expect.stringContaining("data spec 'mnist'") });
  });
});
