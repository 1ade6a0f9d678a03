import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { deepModelSource } from '../../bench/deep-model.ts';
import { runFrontendSection, timeWarm, type FrontendLine } from '../../bench/frontend.ts';

describe('generated deep model', () => {
  it('compiles without errors and keeps its shape through every layer', () => {
    const { text, layerLines } = deepModelSource({ layers: 301 });
    const result = compileModel({ file: 'deep.cnn', text });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const layers = result.graph?.layers ?? [];
    // dense -> softmax is two graph layers, so one more than the layer lines.
    expect(layers.length).toBe(layerLines + 1);
    expect(layers.filter((l) => l.attrs.op === 'conv').every((l) => l.shape.join('x') === '8x8x8')).toBe(true);
    expect(layers.at(-1)?.shape).toEqual([10]);
  });

  it('rejects a non-positive layer count and a bad name', () => {
    expect(() => deepModelSource({ layers: 0 })).toThrow(/positive integer, got 0/);
    expect(() => deepModelSource({ layers: 3, name: '3d model' })).toThrow(/identifier, got '3d model'/);
  });
});

describe('front-end section', () => {
  it('times each call after warm-up and returns the median', () => {
    const delays = [0, 0, 30, 1, 2];
    let call = 0;
    const ms = timeWarm(() => {
      const until = performance.now() + (delays[call++] ?? 0);
      while (performance.now() < until);
    }, 2, 3);
    expect(call).toBe(5);
    expect(ms).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(30);
  });

  it('prints a line per stdlib model and for the deep model, all error-free', async () => {
    const lines: FrontendLine[] = [];
    for await (const line of runFrontendSection(() => {}, { warmup: 0, runs: 1, deepLayers: 60 })) lines.push(line);
    expect(lines.map((l) => l.model)).toContain('LeNet5');
    expect(lines.at(-1)).toMatchObject({ section: 'frontend', model: 'deep60', errors: 0, runs: 1 });
    for (const line of lines) {
      expect(line.errors).toBe(0);
      expect(line.ms).toBeGreaterThan(0);
    }
  });
});
