// The deterministic weight generator of scripts/pretrained_fixtures.py, value for value: fixtures
// store a seed and tensor names instead of megabytes of weights, and both sides regenerate them.

import type { HostTensor } from '../../runtime/tensor.ts';

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The tensor `name` of `shape` as the generator makes it (see GENERATOR in the script). */
export function generated(name: string, shape: readonly number[], seed: number): HostTensor<'F32'> {
  const count = shape.reduce((a, b) => a * b, 1);
  const base = (fnv1a32(name) ^ seed) >>> 0;
  const data = new Float32Array(count);
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const scale = Math.sqrt(3 / fanIn);
  const kind =
    name === 'input' ? 'input'
    : name.endsWith('running_var') || (name.endsWith('weight') && shape.length === 1) ? 'positive'
    : name.endsWith('running_mean') || name.endsWith('bias') ? 'small'
    : 'weight';
  for (let k = 0; k < count; k++) {
    const u = (lowbias32((base + Math.imul(k, 0x9e3779b9)) >>> 0) >>> 8) / 2 ** 24;
    data[k] = kind === 'input' ? 2 * u - 1 : kind === 'positive' ? 0.5 + u : kind === 'small' ? (u - 0.5) * 0.2 : (2 * u - 1) * scale;
  }
  return { dtype: 'F32', shape: [...shape], data };
}
