// Every layer is one complete definition (compiler/layers/): its names reach the parser, completion,
// hover and highlighting; its keywords are in its signature and in the parser's keyword set; its
// reference example checks, lowers to the shape its rule gives and exports to ONNX and PyTorch
// through its own forms; what is generated from the
// definitions (grammar/keyword-args.ts, the layer table of docs/language.md) is current.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../compiler/export/onnx/export.ts';
import type { OnnxEmitter } from '../../compiler/export/onnx/layer-form.ts';
import { modelPy } from '../../compiler/export/pytorch/model-py.ts';
import { definitionOf, DEFINITIONS, LAYER_DEFINITIONS, LAYERS } from '../../compiler/layers/index.ts';
import { keywordArgumentsSource, layerTable, withLayerTable } from '../../compiler/layers/reference.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { SYMBOLS } from '../../compiler/checker/values.ts';
import { compileModel } from '../../compiler/program.ts';
import { KEYWORD_ARGS } from '../../grammar/keyword-args.ts';
import { irShape } from '../../compiler/lower/layout.ts';

const root = resolve(import.meta.dirname, '../..');
const entries = Object.entries(LAYER_DEFINITIONS);

/** The first example of a reference row: `conv 32, 3x3, ...` from "`conv 32, 3x3, ...`, ...". */
function firstExample(example: string): string {
  const m = /`([^`]+)`/.exec(example);
  if (!m) throw new Error(`no example in ${example}`);
  return m[1]!;
}

/** Shapes an example is tried on: an image that reshapes to 7x7x64, and the same values as a vector. */
const INPUT_SHAPES = ['56 x 56 x 1', '3136'];

function compileExample(statement: string, shape: string) {
  const text = `model Example {\n  input a: ${shape}\n  input b: ${shape}\n  ${statement}\n}\n`;
  return compileModel({ file: '/project/example.cnn', text, readText: () => undefined });
}

describe('layer definitions', () => {
  it.each(entries)('%s is complete', (op, d) => {
    expect(d.names.length).toBeGreaterThan(0);
    for (const name of d.names) expect(LAYERS[name]).toBe(d);
    expect(d.signature.startsWith(d.names[0]!)).toBe(true);
    expect(d.doc).toMatch(/^\S.*\.$/s);
    for (const keyword of d.keywords) {
      expect(d.signature, `${op}'s signature names its keyword '${keyword}'`).toMatch(new RegExp(`\\b${keyword}\\b`));
      expect(KEYWORD_ARGS.has(keyword), `the parser knows ${op}'s keyword '${keyword}'`).toBe(true);
    }
    for (const [keyword, words] of Object.entries(d.keywordWords ?? {})) {
      expect(d.keywords, `${op} offers words for its own keywords only`).toContain(keyword);
      for (const word of words) expect(SYMBOLS.has(word), `the checker reads '${word}' (${op}'s ${keyword}) as a word`).toBe(true);
    }
    for (const field of Object.values(d.reference)) expect(field.trim()).not.toBe('');
    expect(d.names.some((n) => firstExample(d.reference.example).startsWith(n)), `${op}'s example uses one of its names`).toBe(true);
  });

  it.each(entries)("%s's reference example checks and lowers to the shape its rule gives", (op, d) => {
    const statement = firstExample(d.reference.example);
    const results = INPUT_SHAPES.map((shape) => compileExample(statement, shape));
    const ok = results.find((r) => r.graph && !r.diagnostics.some((x) => x.severity === 'error'));
    expect(ok, `${statement}: ${results.flatMap((r) => r.diagnostics.map((x) => x.message)).join('; ')}`).toBeDefined();
    const graph = ok!.graph!;
    const layer = graph.layers[graph.layers.length - 1]!;
    expect(layer.attrs.op).toBe(op);
    expect(definitionOf(layer.attrs)).toBe(d);
    expect(definitionOf(layer.attrs).display(layer.attrs)).toMatch(new RegExp(`^${op}`));
    // Lowering checks each layer's IR shape against the checker's and throws on a difference.
    const lowered = lowerModel(graph, { batch: 2, mode: 'train' });
    const node = lowered.values.get(layer.name)!;
    expect(lowered.builder.shape(node)).toEqual(irShape(layer.shape, 2));
  });

  it.each(entries)("%s's reference example exports through its ONNX and PyTorch forms", (op, d) => {
    const statement = firstExample(d.reference.example);
    const graph = INPUT_SHAPES.map((shape) => compileExample(statement, shape)).find((r) => r.graph && !r.diagnostics.some((x) => x.severity === 'error'))!.graph!;
    const layer = graph.layers[graph.layers.length - 1]!;
    const weights = new Map(graph.layers.flatMap((l) => l.params.map((p) => [p.name, new Float32Array(p.shape.reduce((n, k) => n * k, 1))] as const)));
    expect(exportOnnx({ ...graph, outputs: [layer.name] }, weights).length).toBeGreaterThan(0);
    // Its last ONNX node defines the layer's value, from the layer's inputs and parameters.
    const nodes: { op: string; inputs: readonly string[]; out: string }[] = [];
    const e: OnnxEmitter = {
      layer,
      inputs: layer.inputs,
      out: layer.name,
      node: (o, inputs, _attrs, out = layer.name) => void nodes.push({ op: o, inputs, out }),
      param: (role) => layer.params.find((p) => p.role === role)!.name,
      constant: (suffix) => `${layer.name}/${suffix}`,
    };
    definitionOf(layer.attrs).onnx(e, layer.attrs);
    expect(nodes.at(-1)?.out, `${op}'s ONNX nodes define its value`).toBe(layer.name);
    expect(nodes[0]!.inputs[0]).toBe(layer.inputs[0]);
    const py = modelPy({ ...graph, outputs: [layer.name] }, 'example.cnn');
    expect(py, `${op}'s line in model.py`).toMatch(new RegExp(`^ {8}v\\['${layer.name}'\\] = \\S`, 'm'));
  });

  it('no two definitions share a name', () => {
    const names = DEFINITIONS.flatMap((d) => d.names);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(LAYERS).length).toBe(names.length);
  });

  it('grammar/keyword-args.ts is current (regenerate with `node bin/run-ts.js scripts/layer-reference.ts`)', () => {
    expect(readFileSync(resolve(root, 'grammar/keyword-args.ts'), 'utf8')).toBe(keywordArgumentsSource());
  });

  it("docs/language.md's layer table is current and lists every definition", () => {
    const text = readFileSync(resolve(root, 'docs/language.md'), 'utf8');
    expect(text).toBe(withLayerTable(text));
    const table = layerTable();
    for (const d of DEFINITIONS) {
      expect(table).toContain(d.signature);
      for (const name of d.names) expect(table).toContain(`\`${name}\``);
    }
  });
});
