// The command-line contract of `cnnc check` and `cnnc summary` (DESIGN.md): output format, JSON
// fields and exit codes, run through the real binary.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cnnc } from '../support/cli.ts';

describe('cnnc check', () => {
  it('exits 0 with no output on clean files', () => {
    const r = cnnc(['check', 'examples/lenet5.cnn', 'examples/output-size.cnn']);
    expect(r).toMatchObject({ code: 0, stdout: '' });
  });

  it('prints path:line:col: severity: message and exits 1 on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-'));
    const file = join(dir, 'broken.cnn');
    writeFileSync(file, 'model M {\n  input x: 6 x 6 x 1\n  conv 1, 5x5, stride 2\n  dense 10\n}\n');
    const r = cnnc(['check', 'broken.cnn'], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^broken\.cnn:3:3: warning: conv 5x5 stride 2x2 on 6x6: height \(6 \+ 2\*0 - 5\)\/2 \+ 1 = 1\.5/);
    expect(lines[1]).toMatch(/^ {2}hint: /);
    expect(lines[2]).toBe('broken.cnn:4:3: error: dense expects a vector, got 1x1x1 from conv_1');
  });

  it('exits 0 when there are only warnings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-'));
    writeFileSync(join(dir, 'w.cnn'), 'model M {\n  input x: 6 x 6 x 1\n  conv 1, 5x5, stride 2\n}\n');
    const r = cnnc(['check', 'w.cnn'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('w.cnn:3:3: warning:');
  });

  it('exits 2 on a missing file or no arguments', () => {
    expect(cnnc(['check', 'no/such.cnn'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no/such.cnn') });
    expect(cnnc(['check']).code).toBe(2);
    expect(cnnc(['check', '--bogus', 'x.cnn']).code).toBe(2);
  });
});

describe('cnnc summary', () => {
  it('--json has the documented fields', () => {
    const r = cnnc(['summary', 'stdlib/lenet5.cnn', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, unknown> & { layers: Record<string, unknown>[]; totals: Record<string, number> };
    expect(Object.keys(json)).toEqual(['model', 'inputs', 'layers', 'totals']);
    expect(Object.keys(json.layers[0])).toEqual(['name', 'op', 'inputs', 'outputShape', 'params', 'trainableParams', 'macs', 'activationBytes', 'receptiveField']);
    expect(json.layers[0]).toMatchObject({ name: 'conv_1', op: 'conv2d', inputs: ['image'], outputShape: [28, 28, 6], params: 456, macs: 28 * 28 * 6 * 5 * 5 * 3 });
    expect(json.totals).toEqual({ params: 62006, trainable: 62006, nonTrainable: 0, macs: 651720, activationBytes: 44664, paramBytes: 248024 });
  });

  it('prints a readable table with grouped numbers', () => {
    const r = cnnc(['summary', 'examples/bottleneck.cnn', '--model', 'Direct']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/conv_1 \(conv2d\)\s+28x28x32\s+153,632\s+120\.4M/);
    expect(r.stdout).toContain('Multiply-accumulates: 120,422,400 (120.4M)');
  });

  it('--set overrides model parameters', () => {
    const r = cnnc(['summary', 'stdlib/lenet5.cnn', '--set', 'classes=3', '--set', 'channels=1', '--json']);
    const json = JSON.parse(r.stdout) as { layers: { outputShape: number[] }[]; inputs: { shape: number[] }[] };
    expect(json.inputs[0].shape).toEqual([32, 32, 1]);
    expect(json.layers.at(-1)!.outputShape).toEqual([3]);
  });

  it('exits 1 with diagnostics on stderr for a broken model, 2 for usage errors', () => {
    expect(cnnc(['summary', 'stdlib/lenet5.cnn', '--model', 'Nope'])).toMatchObject({ code: 1, stderr: expect.stringContaining("no model 'Nope'") });
    expect(cnnc(['summary', 'stdlib/lenet5.cnn', '--set', 'classes']).code).toBe(2);
    expect(cnnc(['summary']).code).toBe(2);
  });
});

describe('cnnc graph', () => {
  it('draws one box per input and layer, with an edge per connection', () => {
    const r = cnnc(['graph', 'examples/bottleneck.cnn', '--model', 'Bottleneck']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('<svg')).toBe(true);
    expect(r.stdout.match(/class="node"/g)).toHaveLength(3);
    expect(r.stdout.match(/class="edge"/g)).toHaveLength(2);
    expect(r.stdout).toContain('→ 28x28x32');
  });
});
