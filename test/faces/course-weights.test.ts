// The course's FaceNet weight files map one to one onto cnnc's FaceNetEncoder tensors.

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { courseFileFor, parseCsvValues } from '../../runtime/faces/course-weights.ts';

// fr_utils.py's WEIGHTS list (the course's layer names), per inception block.
const ALL = ['3x3_conv1', '3x3_conv2', '3x3_bn1', '3x3_bn2', '5x5_conv1', '5x5_conv2', '5x5_bn1', '5x5_bn2', 'pool_conv', 'pool_bn', '1x1_conv', '1x1_bn'];
const BLOCKS: Record<string, readonly string[]> = {
  inception_3a: ALL,
  inception_3b: ALL,
  inception_3c: ALL.slice(0, 8),
  inception_4a: ALL,
  inception_4e: ALL.slice(0, 8),
  inception_5a: [...ALL.slice(0, 4), ...ALL.slice(8)],
  inception_5b: [...ALL.slice(0, 4), ...ALL.slice(8)],
};
const COURSE_LAYERS = ['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3', ...Object.entries(BLOCKS).flatMap(([b, units]) => units.map((u) => `${b}_${u}`))];

describe("the course's FaceNet weights", () => {
  it("name every cnnc tensor once, and cnnc names every course file", () => {
    const graph = compileModel({ file: 'stdlib/facenet.cnn', model: 'FaceNetEncoder', overrides: {} }).graph!;
    const files = graph.layers.flatMap((l) => l.params).map((p) => courseFileFor(p.name));
    expect(new Set(files).size).toBe(files.length);
    const expected = [
      ...COURSE_LAYERS.flatMap((n) => (n.includes('bn') ? ['w', 'b', 'm', 'v'] : ['w', 'b']).map((s) => `${n}_${s}`)),
      'dense_w',
      'dense_b',
    ];
    expect([...files].sort()).toEqual([...expected].sort());
  });

  it('read CSV values, counting them', () => {
    expect(parseCsvValues('1,2\n3,-4.5e-1\n', 4, 'x.csv')).toEqual(Float32Array.from([1, 2, 3, -0.45]));
    expect(() => parseCsvValues('1,2,3', 4, 'x.csv')).toThrow('x.csv: 3 values, expected 4');
    expect(() => parseCsvValues('1,b', 2, 'x.csv')).toThrow("value 2 is 'b'");
  });
});
