// Bad command lines, paths and weight files end in one line naming the thing and the fix, with
// the documented exit code, before any work starts (issue 13).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionValueProblem, parseCommand, type CommandSpec } from '../../cli/command.ts';
import { BUILD, EVAL, TRAIN } from '../../cli/commands.ts';
import { describeFsError } from '../../cli/fs-errors.ts';
import { checkWritable, readInputFile } from '../../cli/io.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { checkLoadableTensors, checkResumable, readWeightsFile, writeSafetensorsFile, type Checkpoint } from '../../runtime/checkpoint.ts';
import { checkMemoryBudget } from '../../runtime/memory-budget.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { cnnc } from '../support/cli.ts';

const MODEL = 'model M {\n  input x: 28x28x1\n  flatten\n  dense 10 -> softmax\n  loss cross_entropy\n}\n';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnnc-bad-'));
  writeFileSync(join(dir, 'ok.cnn'), MODEL);
  mkdirSync(join(dir, 'folder'));
  return dir;
}

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe('paths', () => {
  it('a folder where a .cnn file is expected', () => {
    const dir = workspace();
    for (const command of ['check', 'summary']) {
      const r = cnnc([command, 'folder'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toBe(`cnnc ${command}: cannot read folder is a folder, not a .cnn file`);
    }
  });
  it('check reports each missing file and checks the rest', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'bad.cnn'), 'model M {\n  input x: 8\n  dense 2\n  cnov 4\n}\n');
    const r = cnnc(['check', 'a.cnn', 'bad.cnn', 'b.cnn'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['cnnc check: cannot read a.cnn: no such file', 'cnnc check: cannot read b.cnn: no such file']);
    expect(r.stdout).toMatch(/^bad\.cnn:4:3: error: unknown layer or block 'cnov'/);
  });
  it('import of a folder is a diagnostic', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'imp.cnn'), `import "./"\n${MODEL}`);
    const r = cnnc(['check', 'imp.cnn'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^imp\.cnn:1:1: error: cannot import '\.\/': \S+ is a folder, not a \.cnn file/);
  });
  it('build -o an existing file', () => {
    const dir = workspace();
    const r = cnnc(['build', 'ok.cnn', '-o', 'ok.cnn'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('cnnc build: -o ok.cnn is a file; a bundle is written into a folder');
  });
  it('--out is checked before training starts', () => {
    const dir = workspace();
    expect(() => checkWritable(join(dir, 'folder'), '--out')).toThrow(/--out \S+ is a folder; give a file path/);
    expect(() => checkWritable(join(dir, 'ok.cnn', 'w.safetensors'), '--out')).toThrow(/ok\.cnn is a file, not a folder/);
    expect(() => checkWritable(join(dir, 'new', 'deeper', 'w.safetensors'), '--out')).not.toThrow();
    const r = cnnc(['train', 'ok.cnn', '--data', 'fashion-mnist-bundled', '--backend', 'cpu', '--out', 'folder'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toBe('cnnc train: --out folder is a folder; give a file path');
  });
  it('an image that is a folder or missing', () => {
    const dir = workspace();
    expect(() => readInputFile(join(dir, 'folder'), 'image')).toThrow(/^image \S+folder is a folder; give the files in it$/);
    expect(() => readInputFile(join(dir, 'none.png'), 'image')).toThrow(/^cannot read image \S+none\.png: no such file$/);
  });
  it('file-system errors a command does not catch become one line', () => {
    const err = (code: string, syscall: string, path: string) => Object.assign(new Error('x'), { code, syscall, path });
    expect(describeFsError(err('EISDIR', 'read', 'd'))).toBe('d is a folder; a file is expected here');
    expect(describeFsError(err('EACCES', 'open', '/ro/f'))).toBe('cannot write /ro/f: permission denied');
    expect(describeFsError(err('EROFS', 'open', '/ro/f'))).toBe('cannot write /ro/f: the file system is read-only');
    expect(describeFsError(err('ENOENT', 'open', 'img.png'))).toBe('cannot read img.png: no such file or folder');
    expect(describeFsError(new RangeError('not fs'))).toBeUndefined();
  });
});

describe('numeric options', () => {
  it.each([
    [EVAL, ['--limit', 'abc'], "--limit expects a whole number of at least 1, got 'abc'"],
    [EVAL, ['--batch', '0'], "--batch expects a whole number of at least 1, got '0'"],
    [EVAL, ['--batch=-5'], "--batch expects a whole number of at least 1, got '-5'"],
    [TRAIN, ['--lr', '0'], "--lr expects a number greater than 0, got '0'"],
    [TRAIN, ['--epochs', '1.5'], "--epochs expects a whole number of at least 1, got '1.5'"],
    [TRAIN, ['--momentum', '1'], "--momentum expects a number from 0 up to (not including) 1, got '1'"],
    [BUILD, ['--batch', ''], "--batch expects a whole number of at least 1, got ''"],
  ] as [CommandSpec, string[], string][])('%#', (spec, argv, message) => {
    expect(() => parseCommand(spec, ['f.cnn', ...argv])).toThrow(message);
  });
  it('a negative value read as a flag is one line', () => {
    const message = (() => {
      try {
        parseCommand(EVAL, ['f.cnn', '--batch', '-5']);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^Option '--batch' argument is ambiguous\..*--batch=-XYZ.*; see cnnc eval --help$/);
    expect(message).not.toContain('\n');
  });
  it('good values pass', () => {
    expect(parseCommand(TRAIN, ['f.cnn', '--lr', '1e-3', '--epochs', '3', '--momentum', '0.9']).values.lr).toBe('1e-3');
    expect(optionValueProblem('seed', 'natural', '0')).toBeUndefined();
    expect(optionValueProblem('batch', 'positive-integer', '1e20')).toMatch(/whole number/);
  });
  it('through the binary: exit 2 and one line', () => {
    const r = cnnc(['eval', 'examples/lenet5.cnn', '--limit', 'abc', '--data', 'fashion-mnist-bundled']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("cnnc eval: --limit expects a whole number of at least 1, got 'abc'");
  });
});

describe('models too large for memory', () => {
  const graph = (text: string): ModelGraph => compileModel({ file: '/v/m.cnn', text, readText: () => undefined }).graph!;
  it('a tensor over the array limit names the layer, the size and the limit', () => {
    const g = graph('model M {\n  input x: 28x28x1\n  conv 100000000, 3x3\n}\n');
    expect(() => checkMemoryBudget(g, 64, true)).toThrow(/^model M is too large: the output of conv_1 \(64x26x26x100000000 floats\) needs 17\.3 TB, over the 4\.3 GB limit of one array/);
  });
  it('everything together over the machine', () => {
    const g = graph(MODEL);
    expect(() => checkMemoryBudget(g, 64, true, { tensorBytes: 1e9, totalBytes: 1e5 })).toThrow(/^model M needs about 0?\.?\d.* more than this machine's 100\.0 KB/);
    expect(() => checkMemoryBudget(g, 64, true)).not.toThrow();
  });
  it('through the binary', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'big.cnn'), 'model M {\n  input x: 28x28x1\n  conv 100000000, 3x3\n  flatten\n  dense 10 -> softmax\n  loss cross_entropy\n}\n');
    const r = cnnc(['eval', 'big.cnn', '--data', 'fashion-mnist-bundled', '--backend', 'cpu', '--weights', 'w.safetensors'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^cnnc eval: model M is too large: the output of conv_1/);
  });
});

describe('weights and checkpoints', () => {
  const f32 = (values: number[], shape = [values.length]): HostTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });
  const checkpoint = (weights: Record<string, HostTensor>, optimizer: Record<string, HostTensor> = {}): Checkpoint => ({
    weights: new Map(Object.entries(weights)),
    optimizer: new Map(Object.entries(optimizer)),
    position: { epoch: 0, step: 1, batchInEpoch: 1, rng: '' },
    info: { model: 'Other' },
  });
  const shapes = new Map<string, readonly number[]>([
    ['d.weight', [2]],
    ['d.bias', [1]],
    ['optim/d.weight/velocity', [2]],
  ]);

  it('NaN and infinity are refused, naming the tensor', () => {
    expect(() => checkLoadableTensors(new Map([['d.weight', f32([1, Number.NaN])]]), 'w.safetensors')).toThrow(
      "w.safetensors: tensor 'd.weight' holds 1 non-finite value(s) (NaN at index 1)",
    );
    expect(() => checkLoadableTensors(new Map([['d.bias', f32([Number.POSITIVE_INFINITY])]]), 'w')).toThrow(/Infinity at index 0/);
  });
  it('F64 tensors are refused with how to convert them', () => {
    const t: HostTensor = { dtype: 'F64', shape: [1], data: new Float64Array(1) } as HostTensor;
    expect(() => checkLoadableTensors(new Map([['d.bias', t]]), 'w')).toThrow("w: tensor 'd.bias' is F64; cnnc loads F32 weights");
  });
  it('readWeightsFile applies the checks to a file', () => {
    const dir = workspace();
    const path = join(dir, 'nan.safetensors');
    writeSafetensorsFile(path, { 'd.weight': f32([Number.NaN, 0]) });
    expect(() => readWeightsFile(path)).toThrow(/non-finite/);
  });
  it('resume refuses a missing tensor, an extra one and another shape, naming the model it came from', () => {
    const ok = checkpoint({ 'd.weight': f32([1, 2]), 'd.bias': f32([0]) }, { 'optim/d.weight/velocity': f32([0, 0]) });
    expect(() => checkResumable(ok, shapes, 'c', 'M')).not.toThrow();
    const missing = checkpoint({ 'd.weight': f32([1, 2]) }, { 'optim/d.weight/velocity': f32([0, 0]) });
    expect(() => checkResumable(missing, shapes, 'c.safetensors', 'M')).toThrow(
      'c.safetensors: cannot resume model M from this checkpoint (it was saved from model Other): missing d.bias; resume needs the same model and optimizer',
    );
    const extra = checkpoint({ 'd.weight': f32([1, 2]), 'd.bias': f32([0]), 'e.weight': f32([1]) }, { 'optim/d.weight/velocity': f32([0, 0]) });
    expect(() => checkResumable(extra, shapes, 'c', 'M')).toThrow(/unexpected e\.weight/);
    const reshaped = checkpoint({ 'd.weight': f32([1, 2, 3]), 'd.bias': f32([0]) }, { 'optim/d.weight/velocity': f32([0, 0]) });
    expect(() => checkResumable(reshaped, shapes, 'c', 'M')).toThrow(/d\.weight is \[3\], the model has \[2\]/);
  });
});

describe('messages', () => {
  it('a user error names its command once, escaped', async () => {
    const { userMessage } = await import('../../cli/main.ts');
    expect(userMessage('train', 'cnnc train takes one .cnn file')).toBe('takes one .cnn file');
    expect(userMessage('train', 'cnnc train: cnnc train feeds one input')).toBe('cnnc train feeds one input');
    expect(userMessage('eval', 'bad \u001b[2J name')).toBe('bad \\u{1b}[2J name');
  });
});
