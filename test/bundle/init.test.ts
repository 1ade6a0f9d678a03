// A bundle and `cnnc train` start from the same weights for a seed: the bundle's weight specs say
// how each tensor starts (the fan-in computed once, in compiler/param-init.ts), and drawing them
// gives exactly the values the training session initialises.

import { expect, it } from 'vitest';
import { compileModel } from '../../compiler/program.ts';
import { compileBundle } from '../../compiler/emit-ts/bundle-spec.ts';
import { initialValue, initialWeights } from '../../runtime/init.ts';

it('bundle weight specs draw the training session initial weights', () => {
  const graph = compileModel({ file: 'stdlib/lenet5.cnn', overrides: { channels: 1 } }).graph!;
  const { spec } = compileBundle(graph, { batch: 2, optimizer: { kind: 'sgd', lr: 0.1 } });
  const session = initialWeights(graph, 7);
  const conv = spec.weights.find((w) => w.name === 'conv_1.weight');
  expect(conv?.init).toEqual({ kind: 'he_uniform', fanIn: 1 * 5 * 5 });
  for (const w of spec.weights) expect(initialValue(w.name, w.shape, w.init, 7), w.name).toEqual(session.get(w.name));
  expect(spec.weights.length).toBe(session.size);
});
