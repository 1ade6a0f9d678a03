// Front-end speed: parse + check of every stdlib/*.cnn file and of a generated 5,000-layer model,
// median of several warm runs. Targets (issue 5): ResNet-152 under 20 ms, 5,000 layers under 200 ms.

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel, listStdlib, loadProgram, rootModels, stdlibPath } from '../compiler/program.ts';
import { deepModelSource } from './deep-model.ts';

export interface FrontendLine {
  readonly section: 'frontend';
  readonly model: string;
  /** Median wall time of the warm runs. */
  readonly ms: number;
  /** The `.cnn` file the model comes from (generated models have a made-up name). */
  readonly file: string;
  readonly runs: number;
  readonly errors: number;
  readonly target_ms?: number;
  readonly within_target?: boolean;
}

const root = join(fileURLToPath(import.meta.url), '..', '..');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Median of `runs` timed calls after `warmup` untimed ones (JIT and caches warm). */
export function timeWarm(fn: () => void, warmup: number, runs: number): number {
  if (runs < 1) throw new Error(`runs must be at least 1, got ${runs}`);
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

interface Input {
  /** Name in the JSON line. */
  readonly model: string;
  /** Model to compile; undefined compiles the file's first model (the generated one). */
  readonly modelName?: string;
  readonly file: string;
  readonly text: string;
  readonly target?: number;
}

/** Targets from issue 5. */
const targets: Readonly<Record<string, number>> = { ResNet152: 20, deep5000: 200 };

/** Every model declared in every stdlib file, then the generated deep model. */
function inputs(deepLayers: number): Input[] {
  const list: Input[] = [];
  for (const name of listStdlib()) {
    const file = stdlibPath(name);
    const text = readFileSync(file, 'utf8');
    for (const model of rootModels(loadProgram(file, text))) list.push({ model: model.name.name, modelName: model.name.name, file, text });
  }
  const deep = deepModelSource({ layers: deepLayers });
  list.push({ model: `deep${deepLayers}`, file: `deep${deepLayers}.cnn`, text: deep.text });
  return list.map((input) => ({ ...input, ...(targets[input.model] === undefined ? {} : { target: targets[input.model] }) }));
}

/** One full front-end pass (parse the file and its imports, resolve, expand, shape-check the model). */
function compileErrors(input: Input): number {
  const { modelName } = input;
  const result = compileModel({ file: input.file, text: input.text, ...(modelName === undefined ? {} : { model: modelName }) });
  if (result.graph === undefined && result.diagnostics.length === 0) throw new Error(`${input.model}: no graph and no diagnostics`);
  return result.diagnostics.filter((d) => d.severity === 'error').length;
}

export async function* runFrontendSection(
  log: (line: string) => void,
  options: { readonly warmup?: number; readonly runs?: number; readonly deepLayers?: number } = {},
): AsyncGenerator<FrontendLine> {
  const { warmup = 3, runs = 7, deepLayers = 5000 } = options;
  for (const input of inputs(deepLayers)) {
    let errors = 0;
    const ms = timeWarm(() => {
      errors = compileErrors(input);
    }, warmup, runs);
    if (errors > 0) log(`frontend: ${input.model} has ${errors} error(s); its time is for a broken input`);
    const file = input.file.startsWith('/') ? relative(root, input.file) : input.file;
    yield {
      section: 'frontend',
      model: input.model,
      ms: Number(ms.toFixed(2)),
      file,
      runs,
      errors,
      ...(input.target === undefined ? {} : { target_ms: input.target, within_target: ms < input.target }),
    };
  }
}
