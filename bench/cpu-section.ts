// The `cpu` bench section: trains LeNet-5 and ResNet-8 (batch 64, SGD) on the wasm back end, on
// the CPU reference executor and with PyTorch on the same thread count, interleaved round by
// round so that load from other processes falls on all three alike, and prints images/s and the
// ratios for training and for forward passes, with the GFLOP/s the wasm convolution kernels reach.
// It also prints images per CPU-second (all threads): on a machine shared with other work that
// figure moves much less than wall-clock rates, though a runtime that spins while it waits (as
// OpenMP does) spends CPU time that does no work.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../compiler/program.ts';
import { buildEvalProgram } from '../compiler/lower/programs.ts';
import { sizeOf } from '../compiler/ir/ops.ts';
import type { IrProgram } from '../compiler/ir/program.ts';
import { initialWeights } from '../runtime/init.ts';
import { buildTrainStep, resetOptimizerState } from '../compiler/optim/train-step.ts';
import { isResident, type PreparedProgram } from '../runtime/executor.ts';
import { cpuExecutor } from '../runtime/reference/executor.ts';
import { WasmExecutor, type KernelTime } from '../runtime/wasm/executor.ts';
import { defaultThreads, WorkerPool } from '../runtime/wasm/workers.ts';
import type { SectionContext } from './driver.ts';
import type { BenchModel } from './models.ts';
import { randomBatch } from './random-batch.ts';

/** Timed steps per round for the fast sides, rounds per figure (the median is reported). */
const STEPS = 5;
const ROUNDS = 3;

type Mode = 'train' | 'forward';

interface Timing {
  readonly wall: number;
  /** CPU seconds of every thread of the side's process. */
  readonly cpu: number;
}

/** One side of the comparison: `time(mode, n)` returns the seconds n steps took. */
interface Side {
  readonly name: string;
  time(mode: Mode, steps: number): Promise<Timing>;
  close(): void;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** cnnc's training step and forward program for `model` on an executor, weights loaded. */
async function cnncSide(name: string, model: BenchModel, prepare: (p: IrProgram) => Promise<PreparedProgram>): Promise<Side> {
  const compiled = compileModel({ file: model.cnn.file, model: model.cnn.model, overrides: model.cnn.overrides });
  const graph = compiled.graph!;
  const step = buildTrainStep(graph, model.batch, { kind: 'sgd', lr: model.optimizer.learningRate });
  const forward = buildEvalProgram(graph, model.batch);
  const store = new Map<string, Float32Array>(initialWeights(graph, 1));
  resetOptimizerState(step, store);
  for (const [n, shape] of step.persistent) if (!store.has(n)) store.set(n, new Float32Array(sizeOf(shape)).fill(n.includes('var') ? 1 : 0));
  const batch = randomBatch(model, 1);
  const [h, w, c] = model.inputShape;
  const images = new Float32Array(batch.images.length);
  for (let b = 0; b < model.batch; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) images[((b * c + k) * h + y) * w + x] = batch.images[((b * h + y) * w + x) * c + k]!;
  const feeds = new Map([[model.inputName, images], ['labels', Float32Array.from(batch.labels)]]);
  const prepared = { train: await prepare(step.program), forward: await prepare(forward) };
  // Resident programs (wasm) keep the weights in their memory between steps, as in training.
  for (const p of Object.values(prepared)) if (isResident(p)) p.load(store);
  const run = (mode: Mode) => {
    const p = prepared[mode];
    return isResident(p) ? p.step(feeds) : p.run(feeds, store);
  };
  return {
    name,
    async time(mode, steps) {
      const [t, c] = [performance.now(), cpuSeconds()];
      for (let i = 0; i < steps; i++) {
        const out = await run(mode);
        if (mode === 'train' && !Number.isFinite(out.get('loss')![0]!)) throw new Error(`${name}: the loss is not finite`);
      }
      return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds() - c };
    },
    close: () => undefined,
  };
}

/** PyTorch on the CPU through bench/torch_cpu.py, or why not. */
async function torchSide(model: BenchModel, threads: number): Promise<(Side & { version: string }) | { missing: string }> {
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn('/usr/bin/python3', [fileURLToPath(new URL('./torch_cpu.py', import.meta.url))], { stdio: 'pipe' });
  } catch (e) {
    return { missing: `cannot start /usr/bin/python3: ${(e as Error).message}` };
  }
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  lines.on('line', (l) => (waiting.length > 0 ? waiting.shift()!(l) : queue.push(l)));
  lines.on('close', () => waiting.splice(0).forEach((w) => w(undefined)));
  child.on('error', () => waiting.splice(0).forEach((w) => w(undefined)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const next = (): Promise<string | undefined> => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
  child.stdin.write(`${JSON.stringify({ model, threads })}\n`);
  const ready = await next();
  if (ready === undefined) return { missing: `PyTorch is not available: ${stderr.trim().split('\n').pop() ?? 'python3 exited'}` };
  const version = (JSON.parse(ready) as { torch: string }).torch;
  return {
    name: 'pytorch',
    version,
    async time(mode, steps) {
      child.stdin.write(`${mode} ${steps}\n`);
      const reply = await next();
      if (reply === undefined) throw new Error(`PyTorch stopped: ${stderr.trim()}`);
      const [wall, cpu] = reply.split(' ').map(Number);
      return { wall: wall!, cpu: cpu! };
    },
    close: () => {
      child.stdin.end('quit\n');
    },
  };
}

/** GFLOP/s of the wasm convolution kernels of one training step, by kind, from a profile. */
function convRates(profile: readonly KernelTime[]): Record<string, number> {
  const kinds: Record<string, [number, number]> = { forward: [0, 0], grad_input: [0, 0], grad_weight: [0, 0] };
  for (const k of profile) {
    if (k.flops === undefined || !k.label.startsWith('conv')) continue;
    const kind = k.label.startsWith('conv_grad_input') ? 'grad_input' : k.label.startsWith('conv_grad_weight') ? 'grad_weight' : 'forward';
    kinds[kind]![0] += k.flops;
    kinds[kind]![1] += k.ms / 1000;
  }
  return Object.fromEntries(Object.entries(kinds).map(([kind, [flops, s]]) => [kind, s > 0 ? Number((flops / s / 1e9).toFixed(2)) : 0]));
}

export async function* cpuSection(models: readonly BenchModel[], context: SectionContext): AsyncGenerator<object> {
  const threads = defaultThreads();
  const steps = context.options.steps ?? STEPS;
  const pool = threads > 1 ? new WorkerPool(threads) : undefined;
  try {
    for (const model of models) {
      context.log(`cpu ${model.id}: preparing (wasm on ${threads} thread(s), the reference executor, PyTorch)`);
      const wasmExecutor = new WasmExecutor(pool);
      const wasmPrepared: Awaited<ReturnType<WasmExecutor['prepare']>>[] = [];
      const wasm = await cnncSide('wasm', model, async (p) => {
        const prepared = await wasmExecutor.prepare(p);
        wasmPrepared.push(prepared);
        return prepared;
      });
      const reference = await cnncSide('reference', model, (p) => cpuExecutor.prepare(p));
      const torch = await torchSide(model, threads);
      const sides: Side[] = [wasm, reference, ...('missing' in torch ? [] : [torch])];
      if ('missing' in torch) context.log(`cpu ${model.id}: ${torch.missing}`);
      const figures: Record<string, Record<Mode, number>> = {};
      const perCpu: Record<string, Record<Mode, number>> = {};
      try {
        for (const mode of ['train', 'forward'] as const) {
          for (const s of sides) await s.time(mode, 1); // warm-up
          const rates = new Map<string, number[]>(sides.map((s) => [s.name, []]));
          const cpuRates = new Map<string, number[]>(sides.map((s) => [s.name, []]));
          for (let r = 0; r < ROUNDS; r++) {
            for (const s of sides) {
              // The reference executor is 10-100x slower: one step a round is enough to time it.
              const n = s.name === 'reference' ? 1 : steps;
              const t = await s.time(mode, n);
              rates.get(s.name)!.push((n * model.batch) / t.wall);
              cpuRates.get(s.name)!.push((n * model.batch) / t.cpu);
            }
            context.log(`cpu ${model.id} ${mode} round ${r + 1}: ${sides.map((s) => `${s.name} ${rates.get(s.name)!.at(-1)!.toFixed(0)}`).join(', ')} images/s`);
          }
          for (const s of sides) {
            (figures[s.name] ??= { train: 0, forward: 0 })[mode] = Math.round(median(rates.get(s.name)!));
            (perCpu[s.name] ??= { train: 0, forward: 0 })[mode] = Math.round(median(cpuRates.get(s.name)!));
          }
        }
      } finally {
        for (const s of sides) s.close();
      }
      const ratio = (a: string, b: string, mode: Mode, of = figures): number | null => (of[a] && of[b] ? Number((of[a]![mode] / of[b]![mode]).toFixed(2)) : null);
      const profile = wasmPrepared[0]!.profile(3);
      for (const p of wasmPrepared) p.dispose();
      yield {
        section: 'cpu',
        model: model.id,
        batch: model.batch,
        threads,
        imagesPerS: figures,
        wasmOverPytorch: { train: ratio('wasm', 'pytorch', 'train'), forward: ratio('wasm', 'pytorch', 'forward') },
        wasmOverReference: { train: ratio('wasm', 'reference', 'train'), forward: ratio('wasm', 'reference', 'forward') },
        imagesPerCpuS: perCpu,
        wasmOverPytorchPerCpuS: { train: ratio('wasm', 'pytorch', 'train', perCpu), forward: ratio('wasm', 'pytorch', 'forward', perCpu) },
        wasmConvGflopPerS: convRates(profile),
        pytorch: 'missing' in torch ? torch.missing : torch.version,
      };
    }
  } finally {
    pool?.close();
  }
}
