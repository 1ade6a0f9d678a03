import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CheckpointError,
  loadCheckpoint,
  readSafetensorsFile,
  removeStaleTemps,
  saveCheckpoint,
  writeSafetensorsFile,
  type Checkpoint,
} from '../../runtime/checkpoint.ts';
import { writeSafetensors } from '../../runtime/safetensors.ts';
import { f32, tensor, type HostTensor } from '../../runtime/tensor.ts';
import { Rng } from '../../runtime/data/random.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cnnc-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(step: number): Checkpoint {
  const rng = Rng.seeded(1, step);
  return {
    weights: new Map([
      ['conv1.weight', f32([2, 1, 3, 3], Array.from({ length: 18 }, () => rng.normal()))],
      ['conv1.bias', f32([2], [step, -step])],
    ]),
    optimizer: new Map<string, HostTensor>([
      ['conv1.weight.m', f32([2, 1, 3, 3], new Float32Array(18).fill(0.5))],
      ['t', tensor('I64', [], new BigInt64Array([BigInt(step)]))],
    ]),
    position: { epoch: 2, step, batchInEpoch: 17, rng: rng.state() },
    info: { model: 'LeNet5', lr: 0.01, losses: [2.3, 1.1] },
  };
}

const tempsIn = (folder: string) => readdirSync(folder).filter((n) => n.includes('.tmp-'));

describe('checkpoints', () => {
  it('round-trip weights, optimizer state, position and info', () => {
    const path = join(dir, 'rt.safetensors');
    const c = sample(5);
    saveCheckpoint(path, c);
    const back = loadCheckpoint(path);
    expect(back.position).toEqual(c.position);
    expect(back.info).toEqual(c.info);
    expect([...back.weights.keys()].sort()).toEqual(['conv1.bias', 'conv1.weight']);
    expect(back.weights.get('conv1.weight')!.data).toEqual(c.weights.get('conv1.weight')!.data);
    expect(back.optimizer.get('t')!.data).toEqual(new BigInt64Array([5n]));
    expect(back.optimizer.get('conv1.weight.m')!.shape).toEqual([2, 1, 3, 3]);
    // The RNG resumes exactly.
    const a = Rng.fromState(c.position.rng);
    const b = Rng.fromState(back.position.rng);
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(Array.from({ length: 5 }, () => a.nextU32()));
    // A checkpoint is also a plain weight file.
    expect(readSafetensorsFile(path).tensors.get('conv1.bias')!.data).toEqual(new Float32Array([5, -5]));
    expect(tempsIn(dir)).toEqual([]);
  });

  it('gives clear errors for missing, non-checkpoint and corrupt files', () => {
    expect(() => loadCheckpoint(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: no such checkpoint/);
    expect(() => loadCheckpoint(dir)).toThrow(/is a folder/);
    const plain = join(dir, 'plain.safetensors');
    writeSafetensorsFile(plain, { w: f32([1], [1]) });
    expect(() => loadCheckpoint(plain)).toThrow(/plain\.safetensors: not a cnnc checkpoint/);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'hello world, not safetensors');
    expect(() => loadCheckpoint(junk)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(junk)).toThrow(/junk\.safetensors: invalid safetensors file: header length/);
    const badPos = join(dir, 'badpos.safetensors');
    writeFileSync(badPos, writeSafetensors({}, { cnnc_checkpoint: JSON.stringify({ version: 1, position: { epoch: -1, step: 0, batchInEpoch: 0, rng: '' } }) }));
    expect(() => loadCheckpoint(badPos)).toThrow(/'epoch' is -1/);
    const badVersion = join(dir, 'v9.safetensors');
    writeFileSync(badVersion, writeSafetensors({}, { cnnc_checkpoint: JSON.stringify({ version: 9 }) }));
    expect(() => loadCheckpoint(badVersion)).toThrow(/unsupported checkpoint version 9/);
    expect(() => saveCheckpoint(join(dir, 'no', 'such', 'dir', 'c.safetensors'), sample(1))).toThrow(/cannot create a temporary file/);
  });

  it('an aborted save (throw before rename) leaves the previous checkpoint intact and no temp file', () => {
    const path = join(dir, 'abort.safetensors');
    saveCheckpoint(path, sample(1));
    expect(() =>
      saveCheckpoint(path, sample(2), {
        beforeRename: () => {
          throw new Error('power cut');
        },
      }),
    ).toThrow('power cut');
    expect(() =>
      saveCheckpoint(path, sample(3), {
        chunkBytes: 16,
        afterChunk: (n) => {
          if (n >= 64) throw new Error('disk gone');
        },
      }),
    ).toThrow('disk gone');
    expect(loadCheckpoint(path).position.step).toBe(1);
    expect(tempsIn(dir).filter((n) => n.includes('abort'))).toEqual([]);
    saveCheckpoint(path, sample(4));
    expect(loadCheckpoint(path).position.step).toBe(4);
  });

  for (const mode of ['mid-write', 'before-rename'] as const) {
    it(`a child process killed ${mode} leaves the previous checkpoint intact`, async () => {
      const folder = join(dir, mode);
      mkdirSync(folder);
      const path = join(folder, 'ckpt.safetensors');
      saveCheckpoint(path, sample(1));
      const child = spawn(process.execPath, [join(repo, 'bin/run-ts.js'), join(repo, 'test/data/helpers/stalled-save.ts'), path, mode], {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (out.includes('stalled')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`child exited (${code}) before stalling: ${out} ${err}`)));
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(loadCheckpoint(path).position.step).toBe(1);
      expect(tempsIn(folder)).toHaveLength(1); // the dead writer's half file, beside the intact checkpoint
      // The next save clears it.
      saveCheckpoint(path, sample(2));
      expect(loadCheckpoint(path).position.step).toBe(2);
      expect(tempsIn(folder)).toEqual([]);
      expect(removeStaleTemps(path)).toEqual([]);
    });
  }
});
