// Every worked example of the course checks out exactly (issue 2).

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { summarize } from '../../compiler/summary.ts';

function compile(file: string, model?: string) {
  const result = compileModel({ file, model });
  expect(result.diagnostics.map((d) => `${d.span.startLine}: ${d.message}`)).toEqual([]);
  const graph = result.graph!;
  return { graph, summary: summarize(graph), shapes: graph.layers.map((l) => l.shape.join('x')) };
}

describe('output-size rule examples', () => {
  it('6x6 conv 3x3 gives 4x4', () => {
    expect(compile('examples/output-size.cnn', 'Conv6x6').shapes).toEqual(['4x4x1']);
  });
  it('n=6, f=3, p=1 gives 6', () => {
    expect(compile('examples/output-size.cnn', 'Conv6x6Padded').shapes).toEqual(['6x6x1']);
  });
  it('10 filters of 3x3 on 6x6x3 have 280 parameters', () => {
    expect(compile('examples/output-size.cnn', 'Params280').summary.totals.params).toBe(280);
  });
  it('maxpool 2/2 on 4x4x10 gives 2x2x10', () => {
    expect(compile('examples/output-size.cnn', 'Pool4x4').shapes).toEqual(['2x2x10']);
  });
  it('a 1x1 conv with 5 filters on 6x6x32 gives 6x6x5', () => {
    expect(compile('examples/output-size.cnn', 'OneByOne').shapes).toEqual(['6x6x5']);
  });
});

describe('the example ConvNet', () => {
  it('goes 39x39x3 -> 37x37x10 -> 17x17x20 -> 7x7x40 -> 1960', () => {
    const { shapes } = compile('examples/simple-convnet.cnn');
    expect(shapes.slice(0, 4)).toEqual(['37x37x10', '17x17x20', '7x7x40', '1960']);
  });
});

describe('LeNet-5', () => {
  for (const file of ['examples/lenet5.cnn', 'stdlib/lenet5.cnn']) {
    it(`${file} has the course's shapes and 62,006 parameters`, () => {
      const { graph, summary } = compile(file);
      const visible = graph.layers.filter((l) => !['relu', 'softmax'].includes(l.attrs.op)).map((l) => l.shape.join('x'));
      expect(visible).toEqual(['28x28x6', '14x14x6', '10x10x16', '5x5x16', '400', '120', '84', '10']);
      expect(summary.totals.params).toBe(62_006);
      expect(summary.totals.trainable).toBe(62_006);
    });
  }
});

describe('the 1x1 bottleneck', () => {
  it('32 same 5x5 filters on 28x28x192 cost 120,422,400 MACs', () => {
    const { graph, summary } = compile('examples/bottleneck.cnn', 'Direct');
    expect(graph.layers[0].shape).toEqual([28, 28, 32]);
    expect(summary.totals.macs).toBe(120_422_400);
  });
  it('a 16-filter bottleneck brings it to 2,408,448 + 10,035,200 = 12,443,648', () => {
    const { graph, summary } = compile('examples/bottleneck.cnn', 'Bottleneck');
    expect(graph.layers.map((l) => l.macs)).toEqual([2_408_448, 10_035_200]);
    expect(summary.totals.macs).toBe(12_443_648);
  });
});

describe('1D and 3D convolutions', () => {
  it('conv1d 16 f5 on 14x1 gives 10x16, then 32 f5 gives 6x32', () => {
    expect(compile('examples/conv1d.cnn').shapes).toEqual(['10x16', '6x32']);
  });
  it('conv3d 16 f5 on 14x14x14x1 gives 10x10x10x16, then 32 f5 gives 6x6x6x32', () => {
    expect(compile('examples/conv3d.cnn').shapes).toEqual(['10x10x10x16', '6x6x6x32']);
  });
});
