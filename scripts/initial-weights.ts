// Writes the weights a model's training starts from (He-uniform, seeded by name, as `cnnc train`
// and metric training initialise them): the untrained baseline that docs/faces.md compares a
// trained encoder against, loadable by embed, verify, recognize and eval.
//   node bin/run-ts.js scripts/initial-weights.ts FILE --model NAME [--seed N] OUT.safetensors

import { compileModel } from '../compiler/program.ts';
import { writeSafetensorsFile } from '../runtime/checkpoint.ts';
import { initialWeights } from '../runtime/init.ts';
import { f32 } from '../runtime/tensor.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const model = option('model');
const seed = Number(option('seed') ?? '0');
const [file, out] = args;
if (!file || !out || !Number.isInteger(seed)) throw new Error('usage: initial-weights.ts FILE --model NAME [--seed N] OUT.safetensors');
const { graph, diagnostics } = compileModel({ file, model, overrides: {} });
if (!graph) throw new Error(diagnostics.map((d) => d.message).join('\n'));
const shapes = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, p.shape] as const)));
const weights = initialWeights(graph, seed);
writeSafetensorsFile(out, new Map([...weights].map(([name, data]) => [name, f32([...shapes.get(name)!], data)])), { model: graph.name, origin: `initial weights, seed ${seed}` });
console.log(`wrote ${out}: ${weights.size} tensors of ${graph.name}, initial weights (seed ${seed})`);
