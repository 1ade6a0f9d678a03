// Writes the generated code of every standard-library model into a folder, so a change to the
// compiler can be checked against it with `diff -r`: for each model's inference program and its
// momentum and Adam training steps, the bundle's WGSL kernels (with their names, comments,
// bindings and buffer plan; for software and GPU tiling) and the wasm module's bytes, plus a
// SUMMARY of sizes and hashes. `node bin/run-ts.js scripts/dump-kernels.ts <folder>`

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPU_TILING, SOFTWARE_TILING } from '../compiler/codegen/wgsl/tiled.ts';
import { planProgram } from '../compiler/emit-ts/plan-program.ts';
import { planWasm } from '../compiler/emit-ts/plan-wasm.ts';
import type { IrProgram } from '../compiler/ir/program.ts';
import { buildInferenceProgram } from '../compiler/lower/programs.ts';
import { buildTrainStep } from '../compiler/optim/train-step.ts';
import { compileModel, listStdlib, loadProgram, rootModels, stdlibPath } from '../compiler/program.ts';

const BATCH = 2;
const out = process.argv[2];
if (out === undefined) {
  console.error('usage: dump-kernels.ts <folder>');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const hash = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex').slice(0, 12);

function wgslListing(program: IrProgram, prefix: string, tiling: typeof GPU_TILING): { text: string; kernels: number } {
  const p = planProgram(program, { prefix, maxStorageBuffers: 8, tiling });
  const kernels = p.described.map(({ dispatch: d, comment, phase }) =>
    `// ${d.kernel} [${phase}] ${comment}\n// bind ${d.bind.join(',')} reads ${d.reads} groups ${d.groups.join(',')}\n${p.wgsl.get(d.kernel)}`);
  return { text: `${kernels.join('\n')}\n// planned ${p.plannedBytes} unplanned ${p.unplannedBytes}\n// buffers ${p.bufferNotes.join(' | ')}\n`, kernels: kernels.length };
}

/** The wasm module a bundle or `--backend wasm` runs for the program (2 threads). */
function wasmBytes(program: IrProgram): Uint8Array {
  return planWasm(program, { maxThreads: 2 }).plan.module;
}

const summary: string[] = [];
for (const file of listStdlib().map(stdlibPath)) {
  for (const m of rootModels(loadProgram(file))) {
    const graph = compileModel({ file, model: m.name.name }).graph;
    if (graph === undefined) continue;
    const programs: [string, IrProgram][] = [['eval', buildInferenceProgram(graph, BATCH)]];
    if (graph.loss.length > 0) {
      programs.push(['train-momentum', buildTrainStep(graph, BATCH, { kind: 'momentum', lr: 0.01 }).program]);
      programs.push(['train-adam', buildTrainStep(graph, BATCH, { kind: 'adam', lr: 0.01 }).program]);
    }
    for (const [kind, program] of programs) {
      const label = `${file.split('/').pop()!.replace(/\.cnn$/, '')}-${m.name.name}-${kind}`;
      for (const [name, tiling] of [['gpu', GPU_TILING], ['sw', SOFTWARE_TILING]] as const) {
        const { text, kernels } = wgslListing(program, kind, tiling);
        writeFileSync(join(out, `${label}.${name}.wgsl`), text);
        summary.push(`${label}.${name}.wgsl ${kernels} kernels ${hash(text)}`);
      }
      try {
        const bytes = wasmBytes(program);
        writeFileSync(join(out, `${label}.wasm`), bytes);
        summary.push(`${label}.wasm ${bytes.length} bytes ${hash(bytes)}`);
      } catch (error) {
        summary.push(`${label}.wasm error ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
writeFileSync(join(out, 'SUMMARY'), `${summary.join('\n')}\n`);
console.log(`${summary.length} files in ${out}`);
