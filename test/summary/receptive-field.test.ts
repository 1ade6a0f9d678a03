// The summary's receptive-field column follows r_out = r_in + (k - 1) j_in, j_out = j_in s: the
// course's figures for VGG-16 and LeNet-5, dilation and padding, and the table and JSON output.

import { describe, expect, it } from 'vitest';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { receptiveFields } from '../../compiler/receptive-field.ts';
import { summarize } from '../../compiler/summary.ts';
import { cnnc } from '../support/cli.ts';

function graphOf(file: string, model?: string, text?: string): ModelGraph {
  const r = compileModel({ file, model, text });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
}

describe('receptive fields', () => {
  it("VGG-16's conv5_3 sees 196 pixels and pool5 212; LeNet-5's second conv 14", () => {
    const vgg = receptiveFields(graphOf('stdlib/vgg.cnn', 'VGG16'));
    expect(vgg.get('features.conv5_3')).toMatchObject({ size: [196, 196], stride: [16, 16] });
    expect(vgg.get('features.pool5')).toMatchObject({ size: [212, 212], stride: [32, 32] });
    const lenet = summarize(graphOf('stdlib/lenet5.cnn')).layers;
    expect(lenet.find((l) => l.name === 'conv_2')!.receptiveField).toEqual({ size: [14, 14], stride: [2, 2] });
    expect(lenet.find((l) => l.name === 'dense_1')!.receptiveField).toBeNull();
  });

  it('counts dilation, padding and per-axis kernels', () => {
    const text = `model M {\n  input x: 32 x 32 x 1\n  conv 4, 3x3, dilation 2 as a\n  conv 4, 3x1, stride 2, pad 1 as b\n}\n`;
    const rf = receptiveFields(graphOf('m.cnn', undefined, text));
    // a: k_eff = 5; b: r = 5 + 2 * 1 along H, 5 + 0 along W; stride 2; the first unit centred at
    // a's start (2.5) + (1 - 1) * 1 along H (pad 1 cancels the half kernel), 2.5 - 1 along W.
    expect(rf.get('a')).toEqual({ size: [5, 5], stride: [1, 1], start: [2.5, 2.5] });
    expect(rf.get('b')).toEqual({ size: [7, 5], stride: [2, 2], start: [2.5, 1.5] });
  });

  it('is a column of the table and a field of --json', () => {
    const table = cnnc(['summary', 'stdlib/lenet5.cnn']);
    expect(table.stdout).toMatch(/RF\/stride/);
    expect(table.stdout).toMatch(/^conv_2 \(conv2d\) .* 14\/2 {2}maxpool_1$/m);
    const json = JSON.parse(cnnc(['summary', 'stdlib/lenet5.cnn', '--json']).stdout) as { layers: { name: string; receptiveField: unknown }[] };
    expect(json.layers.find((l) => l.name === 'maxpool_2')!.receptiveField).toEqual({ size: [16, 16], stride: [4, 4] });
  });
});
