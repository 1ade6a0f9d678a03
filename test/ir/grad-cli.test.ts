// `cnnc grad` end to end on the LeNet-5 PyTorch fixture, and its errors (exit 2, `cnnc grad: ...`).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runGrad } from '../../cli/grad.ts';
import { readSafetensors, writeSafetensors } from '../../runtime/safetensors.ts';
import { toFloat32, type HostTensor } from '../../runtime/tensor.ts';

const fixture = readSafetensors(new Uint8Array(readFileSync(resolve('test/fixtures/torch/lenet5.safetensors'))), 'lenet5');

function part(prefix: string, rename: (k: string) => string = (k) => k): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, v] of fixture) if (k.startsWith(prefix)) out.set(rename(k.slice(prefix.length)), v);
  return out;
}

describe('cnnc grad', () => {
  let dir: string;
  let stderr: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnnc-grad-'));
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      stderr += String(s);
      return true;
    });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    writeFileSync(join(dir, 'w.safetensors'), writeSafetensors(part('param/')));
    // The input under another name: a one-input model takes a file's only tensor.
    writeFileSync(join(dir, 'x.safetensors'), writeSafetensors(part('feed/image', () => 'batch')));
    writeFileSync(join(dir, 'y.safetensors'), writeSafetensors(part('feed/labels', () => 'labels')));
  });
  afterEach(() => vi.restoreAllMocks());

  const args = (extra: string[] = []): string[] => [
    'stdlib/lenet5.cnn', '--set', 'channels=1', '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'x.safetensors'),
    '--labels', join(dir, 'y.safetensors'), '--out', join(dir, 'g.safetensors'), ...extra,
  ];

  it('writes the loss and every gradient under the weights names, matching PyTorch within 1e-4', async () => {
    expect(await runGrad(args())).toBe(0);
    const g = readSafetensors(new Uint8Array(readFileSync(join(dir, 'g.safetensors'))), 'g');
    const want = part('grad/');
    want.delete('image');
    expect([...g.keys()].sort()).toEqual(['loss', ...want.keys()].sort());
    const loss = toFloat32(g.get('loss')!)[0]!;
    expect(Math.abs(loss - toFloat32(fixture.get('loss')!)[0]!)).toBeLessThan(1e-4 * loss);
    for (const [name, t] of want) {
      const got = toFloat32(g.get(name)!);
      const ref = toFloat32(t);
      const scale = Math.max(...ref.map(Math.abs));
      const diff = Math.max(...got.map((v, i) => Math.abs(v - ref[i]!)));
      expect(diff / scale, name).toBeLessThan(1e-4);
      expect(g.get(name)!.shape).toEqual(t.shape);
    }
  });

  it('names a missing weight', async () => {
    const w = part('param/');
    w.delete('dense_2.bias');
    writeFileSync(join(dir, 'w.safetensors'), writeSafetensors(w));
    expect(await runGrad(args())).toBe(2);
    expect(stderr).toMatch(/^cnnc grad: .*no tensor 'dense_2\.bias' \[84\]/);
  });

  it('rejects a wrong input shape, a missing --labels, an unknown backend and a bad file', async () => {
    writeFileSync(join(dir, 'bad.safetensors'), writeSafetensors({ x: { dtype: 'F32', shape: [4, 3, 32, 32], data: new Float32Array(4 * 3 * 32 * 32) } }));
    expect(await runGrad(args(['--input', join(dir, 'bad.safetensors')]))).toBe(2);
    expect(stderr).toContain("input 'image' has shape [4, 3, 32, 32], the model needs [4, 1, 32, 32]");
    const noLabels = args().filter((_, i, a) => a[i] !== '--labels' && a[i - 1] !== '--labels');
    expect(await runGrad(noLabels)).toBe(2);
    expect(stderr).toContain("the loss needs 'labels' [4] per batch: pass --labels");
    expect(await runGrad(args(['--backend', 'tpu']))).toBe(2);
    expect(stderr).toContain("--backend must be cpu, wasm or webgpu, got 'tpu'");
    writeFileSync(join(dir, 'junk.safetensors'), 'not a safetensors file');
    expect(await runGrad(args(['--weights', join(dir, 'junk.safetensors')]))).toBe(2);
    expect(stderr).toMatch(/cnnc grad: weights file .*junk\.safetensors: /);
    expect(await runGrad(['--out', 'x'])).toBe(2);
    expect(stderr).toContain('cnnc grad: expected one FILE, got 0');
  });

  it('reports a label that is not a class index', async () => {
    const labels = part('feed/labels', () => 'labels');
    const t = labels.get('labels')!;
    writeFileSync(join(dir, 'y.safetensors'), writeSafetensors({ labels: { dtype: 'F32', shape: t.shape, data: Float32Array.from(toFloat32(t), (v, i) => (i === 2 ? 12 : v)) } }));
    expect(await runGrad(args())).toBe(2);
    expect(stderr).toContain('cnnc grad: label 12 of example 2 is not a class index in [0, 10)');
  });
});
