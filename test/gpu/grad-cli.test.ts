// `cnnc grad --backend webgpu` gives the loss and gradients of `--backend cpu` (within 1e-4
// relative), through the real command line and safetensors files.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { initialWeights } from '../../runtime/init.ts';
import { readSafetensors, writeSafetensors } from '../../runtime/safetensors.ts';
import { f32, toFloat32, type HostTensor } from '../../runtime/tensor.ts';
import { cnnc } from '../support/cli.ts';
import { describeWithGpu } from '../support/webgpu.ts';
import { randomArray, relativeError } from './compare.ts';

await describeWithGpu('cnnc grad --backend webgpu', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnnc-grad-gpu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches --backend cpu on LeNet-5', () => {
    const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
    const init = initialWeights(graph, 5);
    const weights = new Map<string, HostTensor>();
    for (const p of graph.layers.flatMap((l) => l.params)) weights.set(p.name, f32([...p.shape], init.get(p.name)!));
    writeFileSync(join(dir, 'w.safetensors'), writeSafetensors(weights));
    writeFileSync(join(dir, 'x.safetensors'), writeSafetensors({ image: f32([3, 1, 32, 32], randomArray(3 * 1024, 9, 0, 1)) }));
    writeFileSync(join(dir, 'y.safetensors'), writeSafetensors({ labels: f32([3], [1, 4, 7]) }));
    const results = (['cpu', 'webgpu'] as const).map((backend) => {
      const out = join(dir, `g-${backend}.safetensors`);
      const r = cnnc(['grad', 'stdlib/lenet5.cnn', '--set', 'channels=1', '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'x.safetensors'), '--labels', join(dir, 'y.safetensors'), '--out', out, '--backend', backend]);
      expect(r.stderr + r.stdout).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      return readSafetensors(readFileSync(out), out);
    });
    const [cpu, gpu] = results as [Map<string, HostTensor>, Map<string, HostTensor>];
    expect([...gpu.keys()].sort()).toEqual([...cpu.keys()].sort());
    expect(cpu.size).toBeGreaterThan(5);
    for (const [name, t] of cpu) expect(relativeError(toFloat32(gpu.get(name)!), toFloat32(t)), name).toBeLessThanOrEqual(1e-4);
  });
});
