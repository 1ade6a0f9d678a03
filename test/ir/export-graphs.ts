// Writes test/fixtures/torch/graphs.json: the typed graphs of the fixture models (spans dropped),
// which scripts/torch_fixtures.py runs in PyTorch.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileModel } from '../../compiler/program.ts';
import { FIXTURE_MODELS } from './fixture-models.ts';

export function exportGraph(file: string, model: string, overrides?: Readonly<Record<string, number>>): unknown {
  const r = compileModel({ file: resolve(file), model, overrides });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.graph || errors.length > 0) throw new Error(`${file} ${model}: ${errors.map((d) => d.message).join('; ')}`);
  const g = r.graph;
  return {
    inputs: g.inputs.map((i) => ({ name: i.name, shape: i.shape, trainable: i.trainable })),
    layers: g.layers.map((l) => ({ name: l.name, attrs: l.attrs, inputs: l.inputs, shape: l.shape, paramOwner: l.paramOwner, params: l.params, frozen: l.frozen })),
    outputs: g.outputs,
    loss: g.loss.map((t) => ({ fn: t.fn, weight: t.weight, args: t.args, options: t.options, target: t.target ?? null })),
  };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]).endsWith('export-graphs.ts');
if (isMain) {
  const out = FIXTURE_MODELS.map((m) => ({ ...m, graph: exportGraph(m.file, m.model, m.overrides) }));
  const path = resolve('test/fixtures/torch/graphs.json');
  writeFileSync(path, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${path}: ${out.length} models`);
}
