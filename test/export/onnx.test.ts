// Every stdlib model exports to ONNX and runs in onnxruntime-node with cnnc's CPU reference
// outputs (within 1e-4 of the largest), at small sizes (--set), batch 2, with random weights and
// random batchnorm statistics (so batchnorm's inference form is checked, not an identity).
// CI runs a few stdlib models and test/export/models/every-op.cnn (every layer op); CNNC_LONG=1
// runs every stdlib model.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx } from '../../compiler/export/onnx/export.ts';
import { buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { irShape } from '../../compiler/lower/layout.ts';
import { compileModel } from '../../compiler/program.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { cnnc } from '../support/cli.ts';
import { fill, rng } from '../ir/support.ts';
import { randomizedWeights } from './weights.ts';
import { missingFromTable, STDLIB_SMALL } from './stdlib-small.ts';

/** Stdlib models CI runs (with every-op.cnn, which has every layer op); CNNC_LONG=1 runs them all. */
const QUICK = new Set(['LeNet5Original', 'ResNet18', 'UNetSmall', 'ClassificationWithLocalization', 'SlidingWindows28', 'Heartbeat']);
const SMALL: { file: string; model: string; set?: Readonly<Record<string, number>>; quick?: boolean }[] = [
  { file: 'test/export/models/every-op', model: 'EveryOp', quick: true },
  { file: 'test/export/models/every-op', model: 'Volume', quick: true },
  { file: 'test/export/models/pytorch', model: 'AsymmetricPools', quick: true },
  ...STDLIB_SMALL.map((m) => ({ ...m, file: `stdlib/${m.file}`, quick: QUICK.has(m.model) })),
];
const BATCH = 2;
const dir = mkdtempSync(join(tmpdir(), 'cnnc-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cnnc export --to onnx, run in onnxruntime-node', () => {
  it('the table names every stdlib model', () => {
    expect(missingFromTable(STDLIB_SMALL)).toEqual([]);
  });

  for (const m of SMALL) {
    const run = m.quick || process.env.CNNC_LONG === '1' ? it : it.skip;
    run(`${m.file} ${m.model}`, async () => {
      const graph = compileModel({ file: resolve(`${m.file}.cnn`), model: m.model, overrides: m.set }).graph!;
      const weights = randomizedWeights(graph, 7);
      const rand = rng(11);
      const inputs = new Map(graph.inputs.map((i) => [i.name, fill(irShape(i.shape, BATCH), 'normal', rand)] as const));
      const program = buildInferenceProgram(graph, BATCH);
      const store = new Map(weights);
      for (const i of graph.inputs) if (i.trainable) store.set(i.name, inputs.get(i.name)!);
      const feeds = new Map(graph.inputs.filter((i) => !i.trainable).map((i) => [i.name, inputs.get(i.name)!] as const));
      const values = evaluate(program, feeds, store);

      const path = join(dir, `${m.model}.onnx`);
      writeFileSync(path, exportOnnx(graph, weights));
      const session = await InferenceSession.create(path);
      try {
        const ortFeeds: Record<string, Tensor> = {};
        for (const name of session.inputNames) {
          const input = graph.inputs.find((i) => i.name === name)!;
          ortFeeds[name] = new Tensor('float32', inputs.get(name)!, irShape(input.shape, BATCH));
        }
        const results = await session.run(ortFeeds);
        expect(session.outputNames).toEqual([...graph.outputs]);
        for (const name of graph.outputs) {
          const expected = values[program.outputs.get(`output:${name}`)!]!;
          const got = results[name]!.data as Float32Array;
          expect(got.length, name).toBe(expected.length);
          let scale = 1e-6;
          let worst = 0;
          for (let i = 0; i < got.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]!));
            worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
          }
          expect(worst / scale, name).toBeLessThan(1e-4);
        }
      } finally {
        await session.release();
      }
    });
  }
});

describe('cnnc export command', () => {
  it('writes an ONNX file and states the opset', () => {
    const out = join(dir, 'lenet.onnx');
    const r = cnnc(['export', 'stdlib/lenet5.cnn', '--to', 'onnx', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('ONNX opset 17');
    expect(readFileSync(out).length).toBeGreaterThan(62006 * 4);
  });

  it('weights that do not fit the model are one data line naming them, exit 1, nothing written', () => {
    const weights = join(dir, 'misfit.safetensors');
    writeSafetensorsFile(weights, new Map([['conv_1.weight', { dtype: 'F32' as const, shape: [6, 1, 5, 5], data: new Float32Array(150) }]]));
    const out = join(dir, 'misfit.onnx');
    const r = cnnc(['export', 'stdlib/lenet5.cnn', '--to', 'onnx', '-o', out, '--weights', weights]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cnnc export: \S*misfit\.safetensors does not fit model LeNet5: conv_1\.weight is \[6, 1, 5, 5\] in the file, the model expects \[6, 3, 5, 5\]; missing conv_1\.bias \[6\].*\(and \d+ more\)\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unknown format with one usage line', () => {
    const r = cnnc(['export', 'stdlib/lenet5.cnn', '--to', 'tflite', '-o', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("cnnc export: --to expects onnx or pytorch, got 'tflite'\n");
  });
});
