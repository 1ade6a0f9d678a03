// How each parameter and running statistic starts, by its role: He-uniform over its fan-in for
// conv and dense weights (suited to ReLU networks), zero biases, batchnorm scale 1 and shift 0,
// running mean 0 and variance 1. The one place the fan-in is computed: `cnnc train`
// (runtime/init.ts) and bundles (their weight specs) both read it.

import type { ParamSpec } from './graph.ts';

/** How a tensor starts: He-uniform over its fan-in, or a constant. */
export type WeightInit = { readonly kind: 'he_uniform'; readonly fanIn: number } | { readonly kind: 'const'; readonly value: number };

export function initFor(spec: Pick<ParamSpec, 'role' | 'shape'>): WeightInit {
  switch (spec.role) {
    case 'weight':
      // [out, in, ...kernel]: fan-in is everything but the first axis.
      return { kind: 'he_uniform', fanIn: spec.shape.slice(1).reduce((a, b) => a * b, 1) };
    case 'gamma':
    case 'running_var':
      return { kind: 'const', value: 1 };
    case 'bias':
    case 'beta':
    case 'running_mean':
      return { kind: 'const', value: 0 };
  }
}
