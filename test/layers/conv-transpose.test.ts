// conv_transpose's shape rule, its errors and hover arithmetic, and the stdlib U-Net that uses it
// learning a foreground mask for a few steps on the CPU reference executor, and the same steps on
// the wasm back end.

import { describe, expect, it } from 'vitest';
import { LAYER_DEFINITIONS } from '../../compiler/layers/index.ts';
import { compileModel } from '../../compiler/program.ts';
import { Rng } from '../../runtime/data/random.ts';
import { describeLayer } from '../../lsp/hover.ts';
import { createSession } from '../../runtime/train/create-session.ts';

const UNET = `${import.meta.dirname}/../../stdlib/segmentation.cnn`;

function check(statement: string, shape = '14 x 14 x 4') {
  const text = `model T {\n  input x: ${shape}\n  ${statement}\n}\n`;
  return compileModel({ file: '/project/t.cnn', text, readText: () => undefined });
}

describe('conv_transpose', () => {
  it('follows (n - 1)s - 2p + f + op per axis, with PyTorch weight layout [C, filters, k...]', () => {
    const r = check('conv_transpose 8, 3x3, stride 2, pad 1, output_padding 1');
    expect(r.diagnostics).toEqual([]);
    const layer = r.graph!.layers[0]!;
    expect(layer.shape).toEqual([28, 28, 8]);
    expect(layer.params.map((p) => p.shape)).toEqual([[4, 8, 3, 3], [8]]);
    expect(layer.macs).toBe(14 * 14 * 4 * 8 * 9);
    if (layer.attrs.op !== 'conv_transpose') throw new Error(`got ${layer.attrs.op}`);
    const arithmetic = LAYER_DEFINITIONS.conv_transpose.arithmetic(layer.attrs, layer.inputShapes[0]!);
    expect(arithmetic?.axes).toEqual(['height: (14 - 1)*2 - 2*1 + 3 + 1 = 28', 'width: (14 - 1)*2 - 2*1 + 3 + 1 = 28']);
    expect(describeLayer(layer)).toContain('output size (n - 1)s - 2p + f + op:\n- height: (14 - 1)*2 - 2*1 + 3 + 1 = 28\n- width: (14 - 1)*2 - 2*1 + 3 + 1 = 28');
    expect(check('conv_transpose1d 2, 4, stride 3, dilation 2', '5 x 3').graph!.layers[0]!.shape).toEqual([(5 - 1) * 3 + 2 * 3 + 1, 2]);
  });

  it('rejects an output padding not below the stride, and a padding that leaves nothing', () => {
    const big = check('conv_transpose 8, 3x3, stride 2, output_padding 2');
    expect(big.diagnostics.map((d) => d.message)).toEqual(['conv_transpose: output_padding 2x2 must be smaller than the stride 2x2']);
    const small = check('conv_transpose 8, 1x1, pad 1', '1 x 1 x 2');
    expect(small.diagnostics.map((d) => d.message)).toEqual(['conv_transpose on 1x1x2 from x gives height (1 - 1)*1 - 2*1 + 1 + 0 = -1, below 1']);
  });
});

describe('the stdlib U-Net', () => {
  it('learns a square mask in a few Adam steps on the CPU reference', async () => {
    // A quarter of the width keeps the steps quick; the structure is the same.
    const { graph, diagnostics } = compileModel({ file: UNET, model: 'UNetSmall', overrides: { width: 4 } });
    expect(diagnostics).toEqual([]);
    expect(graph!.layers.filter((l) => l.attrs.op === 'conv_transpose').map((l) => l.shape)).toEqual([[16, 16, 8], [32, 32, 4]]);
    const batch = 4;
    const session = await createSession(graph!, { batch, optimizer: { kind: 'adam', lr: 0.01 }, backend: 'cpu', seed: 1 });
    const rng = Rng.seeded(5);
    const image = new Float32Array(batch * 3 * 32 * 32);
    const mask = new Float32Array(batch * 32 * 32);
    for (let n = 0; n < batch; n++) {
      const top = 4 + Math.floor(rng.float() * 12);
      const left = 4 + Math.floor(rng.float() * 12);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= top && y < top + 12 && x >= left && x < left + 12 ? 1 : 0;
          mask[(n * 32 + y) * 32 + x] = inside;
          for (let c = 0; c < 3; c++) image[((n * 3 + c) * 32 + y) * 32 + x] = inside * 0.8 + rng.float() * 0.2;
        }
      }
    }
    const feeds = new Map([['image', image], ['targets', mask]]);
    expect(session.feeds.map((f) => f.name)).toEqual(['image', 'targets']);
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) losses.push((await session.trainStep(feeds)).loss);
    session.dispose();
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.8 * losses[0]!);
  }, 60_000);

  it('takes the same steps on the wasm back end as on the CPU reference', async () => {
    const { graph } = compileModel({ file: UNET, model: 'UNetSmall', overrides: { width: 2 } });
    const image = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
    const targets = Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 7 < 3 ? 1 : 0));
    const losses = async (backend: 'cpu' | 'wasm') => {
      const session = await createSession(graph!, { batch: 2, optimizer: { kind: 'sgd', lr: 0.05 }, backend, seed: 1 });
      const out: number[] = [];
      for (let step = 0; step < 3; step++) out.push((await session.trainStep(new Map([['image', image], ['targets', targets]]))).loss);
      session.dispose();
      return out;
    };
    const cpu = await losses('cpu');
    const wasm = await losses('wasm');
    expect(cpu[2]!).toBeLessThan(cpu[0]!);
    for (let i = 0; i < cpu.length; i++) expect(Math.abs(wasm[i]! - cpu[i]!)).toBeLessThan(1e-4 * Math.abs(cpu[i]!));
  }, 60_000);
});
