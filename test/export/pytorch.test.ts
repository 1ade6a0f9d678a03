// cnnc export --to pytorch, run in PyTorch (Debian's python3-torch): the module's loss and
// gradients equal cnnc's CPU reference (LeNet-5, ResNet blocks, a triplet model, every loss term,
// a trained input); train.py under `torchrun --nproc_per_node 2` (gloo) takes the same steps as
// one process on the same global batch, and its checkpoint evaluates in `cnnc eval` to the
// accuracy PyTorch reports.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOSSES } from '../../compiler/checker/loss.ts';
import type { LossTerm, ModelGraph } from '../../compiler/graph.ts';
import { buildGradProgram, buildInferenceProgram } from '../../compiler/lower/programs.ts';
import { irShape } from '../../compiler/lower/layout.ts';
import { SEED_FEED } from '../../compiler/lower/lower.ts';
import { compileModel } from '../../compiler/program.ts';
import { readSafetensorsFile, writeSafetensorsFile } from '../../runtime/checkpoint.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import type { HostTensor } from '../../runtime/tensor.ts';
import { writePytorchExport } from '../../cli/export-pytorch.ts';
import { modelPy } from '../../compiler/export/pytorch/model-py.ts';
import { cnnc } from '../support/cli.ts';
import { fill, rng } from '../ir/support.ts';
import { randomizedWeights } from './weights.ts';
import { STDLIB_SMALL } from './stdlib-small.ts';

const PYTHON = '/usr/bin/python3';
/**
 * Debian's torch 1.13 on Python 3.11 cannot parse torchrun's default `--redirects 0 --tee 0`
 * (Std.from_str('0') finds no flag member); tee-ing stdout works and prefixes lines `[default0]:`.
 */
const TORCHRUN_STREAMS = ['--redirects', '1', '--tee', '1', '--monitor_interval', '0.5'];
const dir = mkdtempSync(join(tmpdir(), 'cnnc-pt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1' };

function python(args: string[], timeout = 120_000): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env, timeout });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function compile(file: string, model: string, overrides?: Record<string, number>): ModelGraph {
  const r = compileModel({ file: resolve(file), model, overrides });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

/** Exports `graph` with random weights (batchnorm statistics too), as `cnnc export --to pytorch` does. */
function exportModel(file: string, model: string, id: string): { out: string; graph: ModelGraph; weights: Map<string, Float32Array> } {
  const graph = compile(file, model);
  const weights = randomizedWeights(graph, 5);
  const out = join(dir, id);
  mkdirSync(out);
  writePytorchExport(graph, file, weights, out);
  return { out, graph, weights };
}

/**
 * A target as the data would hold it: 0/1 for binary cross-entropy; for localization pc 0/1 and
 * one-hot classes (cnnc's softmax cross-entropy gradient takes the targets to sum to 1); for yolo
 * a 0/1 detector mask per anchor and cell, offsets in the cell and one-hot classes.
 */
function target(term: LossTerm, shape: readonly number[], rand: () => number): Float32Array {
  const out = fill(shape, 'normal', rand).map((x) => 0.5 * x);
  const bit = (p: number): number => (rand() < p ? 1 : 0);
  if (term.fn === 'binary_cross_entropy') return out.map(() => bit(0.5));
  if (term.fn === 'localization') {
    const [n, f] = shape as [number, number];
    for (let i = 0; i < n; i++) {
      const row = out.subarray(i * f, (i + 1) * f);
      row[0] = bit(0.6);
      row.fill(0, 5);
      row[5 + Math.floor(rand() * (f - 5))] = 1;
    }
  }
  if (term.fn === 'yolo') {
    const [n, channels, h, w] = shape as [number, number, number, number];
    const anchors = (term.lists?.anchors ?? []).length / 2;
    const per = channels / anchors;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < anchors; a++) {
        for (let cell = 0; cell < h * w; cell++) {
          const at = (k: number): number => ((i * channels + a * per + k) * h + 0) * w + cell;
          out[at(0)] = bit(0.4);
          out[at(1)] = rand();
          out[at(2)] = rand();
          for (let k = 5; k < per; k++) out[at(k)] = 0;
          out[at(5 + Math.floor(rand() * (per - 5)))] = 1;
        }
      }
    }
  }
  return out;
}

/**
 * Largest difference relative to the largest expected value (or 1e-6 when all are smaller:
 * the gradient of a bias before batchnorm is zero up to rounding on both sides).
 */
const worstRelative = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  }
  return worst / scale;
};

describe('cnnc export --to pytorch', () => {
  // Every loss of the language: the cases' loss terms together name them all (checked below).
  const GRAD_CASES: { file: string; model: string; id: string; batch?: number; set?: Record<string, number> }[] = [
    { file: 'stdlib/lenet5.cnn', model: 'LeNet5', id: 'lenet' },
    { file: 'test/export/models/pytorch.cnn', model: 'ResNetBlocks', id: 'resnet' },
    { file: 'test/export/models/pytorch.cnn', model: 'TinyTriplet', id: 'triplet' },
    { file: 'stdlib/segmentation.cnn', model: 'UNetSmall', id: 'unet' },
    { file: 'test/export/models/pytorch.cnn', model: 'BinaryProbabilities', id: 'bce-probs' },
    { file: 'test/export/models/pytorch.cnn', model: 'AsymmetricPools', id: 'pools' },
    { file: 'test/export/models/pytorch.cnn', model: 'PythonNames', id: 'python-names' },
    // One model per loss term (test/ir/lowering.test.ts checks their gradients by finite differences).
    ...['CrossEntropyProbs', 'Binary', 'MseTwo', 'Localize', 'StyleTargets', 'Yolo', 'Frozen'].map((model) => ({ file: 'test/ir/models/losses.cnn', model, id: `loss-${model}` })),
    // The generated image is a parameter of model.py: one per run, as in `cnnc stylize`.
    { file: 'stdlib/style_transfer.cnn', model: 'StyleTransfer', id: 'style', batch: 1, set: { height: 32, width: 32, filters: 4 } },
    // The course's triplet model itself (96x96 faces, 3.7M parameters): CNNC_LONG=1 only.
    ...(process.env.CNNC_LONG === '1' ? [{ file: 'stdlib/facenet.cnn', model: 'FaceNetTriplet', id: 'facenet' }] : []),
  ];

  it('the gradient cases use every loss the language has', () => {
    const used = new Set(GRAD_CASES.flatMap((c) => compile(c.file, c.model, c.set).loss.map((t) => t.fn)));
    expect(Object.keys(LOSSES).filter((fn) => !used.has(fn))).toEqual([]);
  });

  it('model.py gives cnnc\'s loss and gradients: LeNet-5, ResNet blocks, a triplet model, a U-Net, every loss, a trained input', { timeout: 600_000 }, () => {
    const runs = GRAD_CASES.map((c) => {
      const batch = c.batch ?? 4;
      const graph = compile(c.file, c.model, c.set);
      const rand = rng(3);
      const weights = randomizedWeights(graph, 5);
      for (const input of graph.inputs) if (input.trainable) weights.set(input.name, fill(irShape(input.shape, batch), 'normal', rand));
      const out = join(dir, c.id);
      mkdirSync(out);
      writePytorchExport(graph, c.file, weights, out);
      const { program, lowered } = buildGradProgram(graph, batch, 'train');
      const feeds = new Map<string, Float32Array>();
      const file = new Map<string, HostTensor>();
      for (const [name, shape] of lowered.feeds) {
        if (name === SEED_FEED) {
          feeds.set(name, Float32Array.of(0));
          continue;
        }
        const term = graph.loss.find((t) => t.target?.name === name);
        if (term?.target?.dtype === 'i32') {
          const classes = graph.layers.find((l) => l.name === term.args[0])!.shape[0]!;
          const labels = Array.from({ length: batch }, () => Math.floor(rand() * classes));
          feeds.set(name, Float32Array.from(labels));
          file.set(name, { dtype: 'I64', shape: [batch], data: BigInt64Array.from(labels.map(BigInt)) });
        } else {
          const data = term ? target(term, shape, rand) : fill(shape, 'normal', rand);
          feeds.set(name, data);
          file.set(name, { dtype: 'F32', shape: [...shape], data });
        }
      }
      const batchFile = join(dir, `${c.id}-batch.safetensors`);
      writeSafetensorsFile(batchFile, file);
      return { ...c, out, program, weights, feeds, batchFile, result: join(dir, `${c.id}-torch.safetensors`) };
    });
    python(['test/export/run_export.py', 'grads', ...runs.flatMap((r) => [r.out, r.batchFile, r.result])]);
    for (const r of runs) {
      const values = evaluate(r.program, r.feeds, r.weights);
      const torch = readSafetensorsFile(r.result).tensors;
      const loss = values[r.program.outputs.get('loss')!]![0]!;
      expect(Number.isFinite(loss), `${r.model} loss`).toBe(true);
      expect(Math.abs(loss - (torch.get('loss')!.data as Float32Array)[0]!), `${r.model} loss`).toBeLessThan(1e-4 * Math.max(1, Math.abs(loss)));
      const grads = [...r.program.outputs.keys()].filter((n) => n !== 'loss');
      expect(grads.length).toBeGreaterThan(0);
      for (const name of grads) {
        const t = torch.get(`grad/${name}`);
        expect(t, `${r.model}: PyTorch has a gradient for ${name}`).toBeDefined();
        // Within 1e-4, or within 4x what rounding alone does to this gradient in PyTorch's float32
        // (deep models with batchnorm in train mode cancel: FaceNetTriplet's reach 1e-2 there).
        const rounding = worstRelative(torch.get(`grad32/${name}`)!.data as Float32Array, t!.data as Float32Array);
        expect(worstRelative(values[r.program.outputs.get(name)!]!, t!.data as Float32Array), `${r.model} ${name}`).toBeLessThan(Math.max(1e-4, 4 * rounding));
      }
    }
  });

  // Every layer op (every-op.cnn) in CI; with CNNC_LONG=1 also every stdlib model at a small size (the ONNX test's table).
  const FORWARD = [
    { file: 'test/export/models/every-op', model: 'EveryOp' },
    { file: 'test/export/models/every-op', model: 'Volume' },
    ...(process.env.CNNC_LONG === '1' ? STDLIB_SMALL.map((m) => ({ ...m, file: `stdlib/${m.file}` })) : []),
  ];
  it('model.py computes cnnc\'s outputs in eval mode: every layer op (CNNC_LONG=1: every stdlib model)', { timeout: 1_200_000 }, () => {
    const runs = FORWARD.map(({ file, model, set }: { file: string; model: string; set?: Readonly<Record<string, number>> }) => {
      const graph = compileModel({ file: resolve(`${file}.cnn`), model, overrides: set }).graph!;
      const weights = randomizedWeights(graph, 5);
      const rand = rng(4);
      // A trained input is one image for the batch: model.py's parameter, repeated for cnnc.
      const store = new Map(weights);
      for (const i of graph.inputs.filter((x) => x.trainable)) {
        const one = fill(irShape(i.shape, 1), 'normal', rand);
        weights.set(i.name, one);
        store.set(i.name, Float32Array.from({ length: 2 * one.length }, (_, k) => one[k % one.length]!));
      }
      const out = join(dir, `fw-${model}`);
      mkdirSync(out);
      writePytorchExport(graph, `${file}.cnn`, weights, out);
      const fed = graph.inputs.filter((i) => !i.trainable);
      const inputs = new Map(fed.map((i) => [i.name, fill(irShape(i.shape, 2), 'normal', rand)] as const));
      const inputsFile = join(dir, `fw-${model}-in.safetensors`);
      writeSafetensorsFile(inputsFile, new Map(fed.map((i) => [i.name, { dtype: 'F32' as const, shape: irShape(i.shape, 2), data: inputs.get(i.name)! }])));
      return { model, graph, weights: store, inputs, out, inputsFile, result: join(dir, `fw-${model}-torch.safetensors`) };
    });
    python(['test/export/run_export.py', 'forward', ...runs.flatMap((r) => [r.out, r.inputsFile, r.result])], 1_000_000);
    for (const r of runs) {
      const program = buildInferenceProgram(r.graph, 2);
      const values = evaluate(program, r.inputs, r.weights);
      const torch = readSafetensorsFile(r.result).tensors;
      for (const name of r.graph.outputs) {
        expect(worstRelative(values[program.outputs.get(`output:${name}`)!]!, torch.get(`output/${name}`)!.data as Float32Array), `${r.model} ${name}`).toBeLessThan(1e-4);
      }
    }
  });

  it('model.py tells train.py when some parameter gets no gradient from the loss (DDP must look for them)', () => {
    const flag = (file: string, model: string) => /^PARAMETERS_OUTSIDE_LOSS = (\w+)$/m.exec(modelPy(compile(file, model), file))?.[1];
    expect(flag('test/export/models/pytorch.cnn', 'UnusedHead')).toBe('True');
    expect(flag('stdlib/lenet5.cnn', 'LeNet5')).toBe('False');
    expect(flag('test/ir/models/losses.cnn', 'StyleTargets')).toBe('False');
  });

  it('cnnc export writes a trained input as a parameter that starts from seeded noise', () => {
    const out = join(dir, 'cli-style');
    const r = cnnc(['export', 'stdlib/style_transfer.cnn', '--to', 'pytorch', '-o', out, '--set', 'height=32', '--set', 'width=32', '--set', 'filters=4', '--seed', '2']);
    expect(r.code, r.stderr).toBe(0);
    const generated = readSafetensorsFile(join(out, 'weights.safetensors')).tensors.get('generated')!;
    expect(generated.shape).toEqual([1, 3, 32, 32]);
    const values = generated.data as Float32Array;
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(new Set(values).size).toBeGreaterThan(1000);
  });

  it('torchrun --nproc_per_node 2 takes the steps of one process; cnnc eval reads its checkpoint', { timeout: 180_000 }, async () => {
    const { out } = exportModel('stdlib/lenet5.cnn', 'LeNet5', 'ddp');
    // A folder of 70x70 PNGs in 10 classes: both sides fit them to 32x32 (box-shrink, bilinear).
    const rand = rng(9);
    const data = join(dir, 'images');
    for (let i = 0; i < 48; i++) {
      const png = new pngjs.PNG({ width: 70, height: 70 });
      for (let p = 0; p < png.data.length; p++) png.data[p] = p % 4 === 3 ? 255 : Math.floor(rand() * 256);
      mkdirSync(join(data, `class${i % 10}`), { recursive: true });
      writeFileSync(join(data, `class${i % 10}`, `${i}.png`), pngjs.PNG.sync.write(png));
    }
    const spec = `folder:${data}@32x32x3`;
    const common = ['--data', spec, '--test', spec, '--batch', '16', '--epochs', '2', '--steps', '4', '--optimizer', 'momentum', '--lr', '0.05', '--seed', '3'];
    const single = python([join(out, 'train.py'), ...common, '--out', join(dir, 'one.safetensors')]);
    const port = await freePort();
    const r = spawnSync('torchrun', ['--nnodes', '1', '--nproc_per_node', '2', '--master_port', String(port), ...TORCHRUN_STREAMS, join(out, 'train.py'), ...common, '--out', join(dir, 'two.safetensors')], { encoding: 'utf8', env, timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const losses = (text: string) => [...text.matchAll(/^(?:\[\w+\]:)?step \d+ epoch \d+ loss (\S+)/gm)].map((m) => Number(m[1]));
    const one = losses(single);
    const two = losses(r.stdout);
    expect(one.length).toBe(4);
    expect(two.length).toBe(4);
    one.forEach((l, i) => expect(Math.abs(two[i]! - l), `step ${i + 1}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(l))));
    expect(one[3]).not.toBe(one[0]);

    const reported = /test accuracy (\S+%) \(\d+ of 48\)/.exec(r.stdout)?.[1];
    expect(reported).toBeDefined();
    const e = cnnc(['eval', 'stdlib/lenet5.cnn', '--weights', join(dir, 'two.safetensors'), '--data', spec, '--backend', 'cpu']);
    expect(e.code, e.stderr).toBe(0);
    // Over 48 examples the percentage names the count.
    expect(/^accuracy (\S+%)/m.exec(e.stdout)?.[1]).toBe(reported);
  });
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
