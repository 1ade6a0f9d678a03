// Initial weights of a bundled model, the same values `cnnc train` starts from for a seed (He-uniform
// weights over the fan-in, constants elsewhere; one seeded stream per tensor name).

import { Rng } from '../data/random.ts';
import { hashName, heUniform } from '../init.ts';
import type { WeightSpec } from './plan.ts';

export function initialValue(spec: WeightSpec, seed: number): Float32Array {
  const count = spec.shape.reduce((p, d) => p * d, 1);
  if (spec.init.kind === 'const') return new Float32Array(count).fill(spec.init.value);
  return heUniform(count, spec.init.fanIn, Rng.seeded(seed, hashName(spec.name)));
}
