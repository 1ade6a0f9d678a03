// `cnnc build FILE -o DIR`: compiles a model into a bundle (TypeScript module with a typed API,
// its WGSL kernels inlined and as files, its wasm modules inlined, manifest.json) that runs
// unchanged in Node and browsers, on WebGPU or, without it, on the wasm back end.

import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { BUNDLE_TARGETS, BundleBuildError, compileBundle, type BundleTarget } from '../compiler/emit-ts/bundle-spec.ts';
import { emitBundle } from '../compiler/emit-ts/emit-module.ts';
import { ProgramRequestError } from '../compiler/program-request-error.ts';
import type { OptimizerConfig } from '../compiler/optim/optimizers.ts';
import { expectOneFile, helpText, parseCommand } from './command.ts';
import { BUILD } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';

const OPTIMIZERS = ['sgd', 'momentum', 'rmsprop', 'adam'] as const;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} expects a positive integer, got '${value}'`);
  return v;
}

function parseOptimizer(kind: string | undefined, lr: string | undefined): OptimizerConfig {
  const k = kind ?? 'momentum';
  if (!(OPTIMIZERS as readonly string[]).includes(k)) throw new UsageError(`--optimizer expects ${OPTIMIZERS.join(', ')}, got '${k}'`);
  const rate = lr === undefined ? 0.01 : Number(lr);
  if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--lr expects a positive number, got '${lr}'`);
  return { kind: k as OptimizerConfig['kind'], lr: rate };
}

/** The source as the header names it: relative to the working directory, never a machine path. */
function displaySource(file: string): string {
  const rel = relative(process.cwd(), resolve(file)).split(sep).join('/');
  return rel === '' || rel.startsWith('..') ? basename(file) : rel;
}

export async function runBuild(argv: string[]): Promise<number> {
  let out: string;
  let file: string;
  let values: ReturnType<typeof parse>['values'];
  const parse = (args: string[]) => parseCommand(BUILD, args);
  let batch: number;
  let optimizer: OptimizerConfig;
  let target: BundleTarget;
  try {
    const parsed = parse(argv);
    values = parsed.values;
    expectOneFile(BUILD, parsed.positionals);
    if (values.out === undefined) throw new UsageError('missing -o DIR');
    file = parsed.positionals[0]!;
    out = values.out;
    if (statSync(out, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`-o ${out} is a file; a bundle is written into a folder`);
    batch = positiveInt('--batch', values.batch, 32);
    optimizer = parseOptimizer(values.optimizer, values.lr);
    target = (values.target ?? 'software') as BundleTarget;
    if (!(BUNDLE_TARGETS as readonly string[]).includes(target)) throw new UsageError(`--target expects ${BUNDLE_TARGETS.join(' or ')}, got '${target}'`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`cnnc build: ${e.message}\n${helpText(BUILD)}`);
    return EXIT_USAGE;
  }
  try {
    const graph = compileForRun(file, values.model, values.set);
    if (graph === undefined) return EXIT_ERRORS;
    const bundle = compileBundle(graph, { batch, optimizer, target });
    const dir = resolve(out);
    const emitted = await emitBundle(graph, bundle, { runtimeImport: values.runtime, source: displaySource(file) });
    mkdirSync(join(dir, 'kernels'), { recursive: true });
    // Kernels of an earlier build that this one does not have would mislead: remove them.
    for (const old of readdirSync(join(dir, 'kernels'))) {
      if (old.endsWith('.wgsl') && !emitted.files.has(`kernels/${old}`)) rmSync(join(dir, 'kernels', old));
    }
    for (const [path, text] of emitted.files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileAtomic(join(dir, path), text);
    }
    const kernels = [...emitted.files.keys()].filter((p) => p.endsWith('.wgsl')).length;
    const wasmKiB = (bundle.wasm.train.plan.module.length + bundle.wasm.eval.plan.module.length) / 1024;
    process.stdout.write(`wrote ${join(out, emitted.module)} (${bundle.spec.train.dispatches.length} training dispatches, ${kernels} kernels; wasm: ${bundle.wasm.train.plan.steps.length} training steps, ${wasmKiB.toFixed(0)} KiB of modules) and manifest.json\n`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`cnnc build: ${e.message}\n`);
      return EXIT_USAGE;
    }
    // A model a bundle cannot hold, or a program it cannot give: reported against the model file.
    if (e instanceof BundleBuildError || e instanceof ProgramRequestError) {
      process.stderr.write(`${file}: error: ${e.message}\n`);
      return EXIT_ERRORS;
    }
    throw e;
  }
}
