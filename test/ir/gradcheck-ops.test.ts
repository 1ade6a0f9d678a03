// Finite-difference checks of autodiff for every differentiable op, on odd shapes, strides > 1,
// padding and strides that do not divide the input evenly. Tolerance: 1e-2 relative (float32
// central differences with eps 1e-2).

import { describe, expect, it } from 'vitest';
import type { UnaryFn, BinaryFn } from '../../compiler/ir/ops.ts';
import { allBut } from '../../compiler/ir/build.ts';
import { gradCheck, type Init } from './support.ts';

const TOL = 1e-2;

describe('gradient checks: elementwise', () => {
  const unary: [UnaryFn, Init][] = [
    ['neg', 'normal'], ['exp', 'normal'], ['log', 'positive'], ['sqrt', 'positive'], ['rsqrt', 'positive'],
    ['square', 'normal'], ['abs', 'away'], ['relu', 'away'], ['leaky_relu', 'away'], ['tanh', 'normal'],
    ['sigmoid', 'normal'], ['softplus', 'normal'],
  ];
  for (const [fn, init] of unary) {
    it(`unary ${fn}`, () => {
      const r = gradCheck({ x: { shape: [3, 5], init } }, (b, x) => b.unary(fn, x.x!, 0.1));
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
  const binary: BinaryFn[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];
  for (const fn of binary) {
    it(`binary ${fn}`, () => {
      const r = gradCheck(
        { a: { shape: [2, 7], init: 'distinct' }, b: { shape: [2, 7], init: fn === 'div' ? 'positive' : 'distinct' } },
        (b, x) => b.binary(fn, x.a!, x.b!),
      );
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
  it('affine and axpby', () => {
    const r = gradCheck({ a: { shape: [4, 3] }, b: { shape: [4, 3] } }, (b, x) => b.axpby(0.3, b.affine(x.a!, -2, 1), 1.7, x.b!));
    expect(r.maxError).toBeLessThan(TOL);
  });
});

describe('gradient checks: reductions and linear algebra', () => {
  for (const fn of ['sum', 'mean', 'var'] as const) {
    it(`reduce ${fn} over axes 0 and 2`, () => {
      const r = gradCheck({ x: { shape: [3, 2, 5] } }, (b, x) => b.reduce(fn, x.x!, [0, 2]));
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
  it('expand and bias_add', () => {
    const r = gradCheck({ x: { shape: [2, 3, 4, 5] }, v: { shape: [3] } }, (b, x) =>
      b.binary('mul', b.biasAdd(x.x!, x.v!), b.perChannel(x.v!, [2, 3, 4, 5])),
    );
    expect(r.maxError).toBeLessThan(TOL);
  });
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`matmul transA=${ta} transB=${tb}, rank 2 and batched`, () => {
      const r2 = gradCheck({ a: { shape: ta ? [5, 3] : [3, 5] }, b: { shape: tb ? [4, 5] : [5, 4] } }, (b, x) => b.matmul(x.a!, x.b!, ta, tb));
      const r3 = gradCheck({ a: { shape: ta ? [2, 5, 3] : [2, 3, 5] }, b: { shape: tb ? [2, 4, 5] : [2, 5, 4] } }, (b, x) => b.matmul(x.a!, x.b!, ta, tb));
      expect(Math.max(r2.maxError, r3.maxError)).toBeLessThan(TOL);
    });
  }
});

describe('gradient checks: convolution', () => {
  const cases = [
    { name: 'conv1d stride 2 pad 1 (uneven)', x: [2, 3, 10], w: [4, 3, 3], stride: [2], pb: [1], pa: [1], dil: [1] },
    { name: 'conv2d 3x3 stride 1 same', x: [2, 2, 5, 5], w: [3, 2, 3, 3], stride: [1, 1], pb: [1, 1], pa: [1, 1], dil: [1, 1] },
    { name: 'conv2d stride 2 on odd 7x6, asymmetric pad', x: [1, 2, 7, 6], w: [3, 2, 3, 2], stride: [2, 3], pb: [0, 1], pa: [1, 0], dil: [1, 1] },
    { name: 'conv2d dilation 2 stride 3 (uneven)', x: [2, 1, 9, 8], w: [2, 1, 2, 3], stride: [3, 2], pb: [1, 2], pa: [1, 2], dil: [2, 2] },
    { name: 'conv3d stride 2 pad 1', x: [1, 2, 5, 4, 5], w: [2, 2, 3, 2, 3], stride: [2, 1, 2], pb: [1, 0, 1], pa: [1, 0, 0], dil: [1, 1, 1] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rank = (c.x.length - 2) as 1 | 2 | 3;
      const r = gradCheck({ x: { shape: c.x }, w: { shape: c.w } }, (b, x) =>
        b.conv(x.x!, x.w!, { rank, stride: c.stride, padBefore: c.pb, padAfter: c.pa, dilation: c.dil }),
      );
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
});

describe('gradient checks: pooling', () => {
  const cases = [
    { name: 'maxpool2d 2x2 stride 2 on odd 5x7', mode: 'max', x: [2, 2, 5, 7], k: [2, 2], s: [2, 2], pb: [0, 0], pa: [0, 0], ceil: false },
    { name: 'maxpool2d 3x3 stride 2 pad 1 (overlapping)', mode: 'max', x: [1, 2, 6, 5], k: [3, 3], s: [2, 2], pb: [1, 1], pa: [1, 1], ceil: false },
    { name: 'avgpool2d 3x3 stride 2 pad 1 excludes padding', mode: 'avg', x: [2, 1, 7, 6], k: [3, 3], s: [2, 2], pb: [1, 1], pa: [1, 1], ceil: false },
    { name: 'avgpool2d ceil mode', mode: 'avg', x: [1, 2, 5, 5], k: [2, 2], s: [2, 2], pb: [0, 0], pa: [0, 0], ceil: true },
    { name: 'maxpool1d 3 stride 2', mode: 'max', x: [2, 3, 9], k: [3], s: [2], pb: [0], pa: [0], ceil: false },
    { name: 'avgpool3d 2 stride 2', mode: 'avg', x: [1, 2, 4, 5, 3], k: [2, 2, 2], s: [2, 2, 1], pb: [0, 0, 0], pa: [0, 0, 0], ceil: false },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const rank = (c.x.length - 2) as 1 | 2 | 3;
      const r = gradCheck({ x: { shape: c.x, init: 'distinct' } }, (b, x) =>
        b.pool(x.x!, { mode: c.mode, rank, kernel: c.k, stride: c.s, padBefore: c.pb, padAfter: c.pa }, c.ceil),
      );
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
});

describe('gradient checks: normalisation, softmax, losses', () => {
  it('batchnorm training mode', () => {
    const r = gradCheck({ x: { shape: [3, 2, 3, 2] }, g: { shape: [2] }, be: { shape: [2] } }, (b, x) =>
      b.add({ op: 'batchnorm_train', eps: 1e-5 }, [x.x!, x.g!, x.be!], [3, 2, 3, 2]),
    );
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('batchnorm inference mode (x, gamma, beta; running stats fixed)', () => {
    const r = gradCheck(
      { x: { shape: [2, 3, 5] }, m: { shape: [3], fixed: true }, v: { shape: [3], init: 'positive', fixed: true }, g: { shape: [3] }, be: { shape: [3] } },
      (b, x) => b.add({ op: 'batchnorm', eps: 1e-3 }, [x.x!, x.m!, x.v!, x.g!, x.be!], [2, 3, 5]),
    );
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('the checker notices a wrong gradient (running stats get none, so checking them fails)', () => {
    const r = gradCheck(
      { x: { shape: [2, 3, 5] }, m: { shape: [3] }, v: { shape: [3], init: 'positive', fixed: true }, g: { shape: [3] }, be: { shape: [3] } },
      (b, x) => b.add({ op: 'batchnorm', eps: 1e-3 }, [x.x!, x.m!, x.v!, x.g!, x.be!], [2, 3, 5]),
    );
    expect(r.maxError).toBeGreaterThan(0.1);
  });
  it('l2_normalize over features', () => {
    const r = gradCheck({ x: { shape: [3, 6] } }, (b, x) => b.add({ op: 'l2_normalize', axis: 1, eps: 1e-12 }, [x.x!], [3, 6]));
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('softmax over classes', () => {
    const r = gradCheck({ x: { shape: [3, 5] } }, (b, x) => b.add({ op: 'softmax', axis: 1 }, [x.x!], [3, 5]));
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('softmax cross-entropy wrt logits', () => {
    const r = gradCheck({ z: { shape: [4, 5] }, lab: { shape: [4], fixed: true } }, (b, x) => {
      const labels = b.affine(x.lab!, 0, 3); // class 3 for every example
      const t = b.add({ op: 'one_hot', classes: 5 }, [labels], [4, 5]);
      return b.add({ op: 'softmax_cross_entropy' }, [x.z!, t], [4]);
    });
    expect(r.maxError).toBeLessThan(TOL);
  });
});

describe('gradient checks: data movement', () => {
  it('reshape, concat (channels), slice', () => {
    const r = gradCheck({ a: { shape: [2, 3, 2, 2] }, c: { shape: [2, 1, 2, 2] } }, (b, x) => {
      const cat = b.concat([x.a!, x.c!], 1);
      const s = b.slice(cat, [1, 1, 0, 1], [1, 3, 2, 1]);
      return b.reshape(s, [3, 2]);
    });
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('zero pad (asymmetric)', () => {
    const r = gradCheck({ x: { shape: [2, 2, 3, 4] } }, (b, x) => b.pad(x.x!, [1, 0], [2, 1]));
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('space_to_depth and depth_to_space', () => {
    const r = gradCheck({ x: { shape: [2, 3, 4, 6] } }, (b, x) => {
      const s = b.add({ op: 'space_to_depth', block: 2 }, [x.x!], [2, 12, 2, 3]);
      const sq = b.unary('square', s);
      return b.add({ op: 'depth_to_space', block: 2 }, [sq], [2, 3, 4, 6]);
    });
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('upsample (2D and 1D)', () => {
    const r = gradCheck({ x: { shape: [2, 2, 3, 2] }, y: { shape: [1, 2, 3] } }, (b, x) => {
      const u = b.add({ op: 'upsample', scale: [2, 3] }, [x.x!], [2, 2, 6, 6]);
      const v = b.add({ op: 'upsample', scale: [2] }, [x.y!], [1, 2, 6]);
      return b.concat([b.reshape(u, [144]), b.reshape(v, [12])], 0);
    });
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('dropout mask times x', () => {
    const r = gradCheck({ x: { shape: [4, 9] } }, (b, x) => {
      const seed = b.constant(7, []);
      const m = b.add({ op: 'dropout_mask', rate: 0.4, salt: 3 }, [seed], [4, 9]);
      return b.binary('mul', x.x!, m);
    });
    expect(r.maxError).toBeLessThan(TOL);
  });
  it('allBut helper', () => {
    expect(allBut(4, 1)).toEqual([0, 2, 3]);
  });
});

describe('verifyProgram', () => {
  it('reports wrong arity, forward references and mismatched shapes', async () => {
    const { verifyProgram } = await import('../../compiler/ir/verify.ts');
    const problems = verifyProgram({
      nodes: [
        { id: 0, attrs: { op: 'leaf', name: 'x', role: 'feed' }, inputs: [], shape: [2, 3] },
        { id: 1, attrs: { op: 'binary', fn: 'add' }, inputs: [0, 2], shape: [2, 3] },
        { id: 2, attrs: { op: 'unary', fn: 'relu', alpha: 0 }, inputs: [0, 0], shape: [3, 2] },
      ],
      outputs: new Map([['y', 5]]),
      updates: [{ name: 'x', value: 2 }],
    });
    expect(problems).toEqual([
      'node 1 (binary): input 2 is not an earlier node',
      'node 1 (binary): input 1 has shape [3, 2], output [2, 3]',
      'node 2 (unary): 2 inputs, expected 1',
      'node 2 (unary): input 0 has shape [2, 3], output [3, 2]',
      'output y: no node 5',
      'update x: value [3, 2] for leaf [2, 3]',
    ]);
  });
});

describe('gradient checks on random geometries (seeded)', async () => {
  const { rng } = await import('./support.ts');
  const rand = rng(2024);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  for (let trial = 0; trial < 8; trial++) {
    const rank = int(1, 3) as 1 | 2 | 3;
    const kernel = Array.from({ length: rank }, () => int(1, 3));
    const stride = Array.from({ length: rank }, () => int(1, 3));
    const dilation = Array.from({ length: rank }, () => int(1, 2));
    const padBefore = kernel.map((k) => int(0, k - 1));
    const padAfter = kernel.map((k) => int(0, k - 1));
    const spatial = kernel.map((k, i) => dilation[i]! * (k - 1) + int(1, rank === 3 ? 3 : 5));
    const x = [int(1, 2), int(1, 3), ...spatial];
    const w = [int(1, 3), x[1]!, ...kernel];
    const label = `rank ${rank}, x [${x}], k [${kernel}], stride [${stride}], dilation [${dilation}], pad [${padBefore}]/[${padAfter}]`;
    it(`conv ${label}`, () => {
      const r = gradCheck({ x: { shape: x }, w: { shape: w } }, (b, v) => b.conv(v.x!, v.w!, { rank, stride, padBefore, padAfter, dilation }), trial);
      expect(r.maxError).toBeLessThan(TOL);
    });
    const mode = trial % 2 === 0 ? 'max' : 'avg';
    it(`${mode} pool ${label}`, () => {
      const pb = padBefore.map((p, i) => Math.min(p, kernel[i]! - 1));
      const r = gradCheck({ x: { shape: x, init: 'distinct' } }, (b, v) =>
        b.pool(v.x!, { mode, rank, kernel, stride, padBefore: pb, padAfter: pb }, trial % 3 === 0),
      trial);
      expect(r.maxError).toBeLessThan(TOL);
    });
  }
});
