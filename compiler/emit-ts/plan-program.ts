// Turns one IR program into the plain data the WebGPU runtime runs (a bundle's programs, and the
// Node executor's): the fused kernels (WGSL text, named by what they compute), the buffer plan
// (memory slots shared by liveness, one buffer per persistent tensor or feed) and the dispatch
// list, with a one-line description of every dispatch.

import type { IrNode } from '../ir/ops.ts';
import { sizeOf } from '../ir/ops.ts';
import type { IrProgram } from '../ir/program.ts';
import { fuseProgram, type FusedKernel, type KernelProgram } from '../codegen/wgsl/program.ts';
import type { ConvGradForm } from '../passes/conv-grad-plan.ts';
import { planMemory, type MemoryPlan } from '../passes/plan.ts';
import type { Tiling } from '../codegen/wgsl/tiled.ts';
import type { BufferSpec, Dispatch, ProgramPlan } from '../../runtime/bundle/plan.ts';

export type Phase = 'forward' | 'loss' | 'backward' | 'update';

export interface DescribedDispatch {
  readonly dispatch: Dispatch;
  /** e.g. `conv_1: conv + bias_add + relu, 8x1x32x32 -> 8x6x28x28` */
  readonly comment: string;
  readonly phase: Phase;
}

export interface PlannedProgram {
  readonly plan: ProgramPlan;
  readonly described: readonly DescribedDispatch[];
  /** WGSL by kernel name. */
  readonly wgsl: ReadonlyMap<string, string>;
  /** What each buffer holds, for the manifest: `leaf conv_1.weight`, `slot 3`, ... */
  readonly bufferNotes: readonly string[];
  readonly plannedBytes: number;
  readonly unplannedBytes: number;
  /** The fused kernels, one per dispatch in order. */
  readonly kernels: KernelProgram;
  readonly memory: MemoryPlan;
}

export interface PlanOptions {
  /** Prefix of kernel names: `train`, `eval`. */
  readonly prefix: string;
  readonly maxStorageBuffers: number;
  readonly tiling: Tiling;
  /** Off: one kernel per IR op (tests). */
  readonly fuse?: boolean;
  /** Forces the direct or restructured convolution gradients (tests of both forms). */
  readonly convGrad?: ConvGradForm;
}

const dims = (shape: readonly number[]): string => (shape.length === 0 ? 'scalar' : shape.join('x'));

/** An op as a reader knows it: `relu` rather than `unary`, `sub` rather than `binary`. */
function opName(n: IrNode): string {
  const a = n.attrs;
  if (a.op === 'unary' || a.op === 'binary' || a.op === 'reduce') return a.fn;
  return a.op;
}

export function planProgram(program: IrProgram, options: PlanOptions): PlannedProgram {
  const kp = fuseProgram(program, { maxStorageBuffers: options.maxStorageBuffers, tiling: options.tiling, fuse: options.fuse, convGrad: options.convGrad });
  const memory = planMemory(kp);
  const buffers: BufferSpec[] = memory.slotBytes.map((bytes) => ({ bytes }));
  const notes: string[] = memory.slotBytes.map((_, i) => `slot ${i}`);
  const own = new Map<number, number>();
  const bufferOf = (value: number): number => {
    const v = kp.storageOf(value);
    const slot = memory.slotOf.get(v);
    if (slot !== undefined) return slot;
    let id = own.get(v);
    if (id === undefined) {
      id = buffers.length;
      own.set(v, id);
      const node = program.nodes[v];
      const bytes = Math.max(4, sizeOf(kp.values[v]!.shape) * 4);
      if (node?.attrs.op === 'leaf') {
        buffers.push({ bytes, tensor: node.attrs.name });
        notes.push(`${node.attrs.role} ${node.attrs.name}`);
      } else {
        buffers.push({ bytes });
        notes.push(`value ${v} (${node?.attrs.op ?? 'scratch'})`);
      }
    }
    return id;
  };
  for (const n of program.nodes) if (n.attrs.op === 'leaf') bufferOf(n.id);
  for (const v of memory.slotOf.keys()) notes[memory.slotOf.get(v)!] += ` v${v}`;

  const loss = program.outputs.get('loss');
  const updated = new Set(program.updates.map((u) => kp.storageOf(u.value)));
  const wgsl = new Map<string, string>();
  const described = kp.kernels.map((k, i): DescribedDispatch => {
    const ops = kernelOps(program, k);
    const layer = program.nodes[k.source]!.layer;
    // The layer and the anchor name a kernel; the comment lists its epilogue.
    const what = [...(layer === undefined ? [] : [layer]), ops[0]!].map((s) => s.replace(/[^A-Za-z0-9_]/g, '_')).join('-');
    const name = `${options.prefix}-${String(i).padStart(2, '0')}-${what.slice(0, 48)}`;
    wgsl.set(name, k.kernel.wgsl);
    const dispatch: Dispatch = { kernel: name, bind: k.args.map(bufferOf), reads: k.reads, groups: [...k.kernel.workgroups] as [number, number, number] };
    return { dispatch, comment: describe(kp, k, ops), phase: phaseOf(program, k, loss, updated) };
  });
  const plan: ProgramPlan = {
    buffers,
    dispatches: described.map((d) => d.dispatch),
    outputs: [...program.outputs].map(([name, v]) => ({ name, buffer: bufferOf(v), shape: [...program.nodes[v]!.shape] })),
    updates: program.updates.map((u) => ({ tensor: leafName(program, u.name), from: bufferOf(u.value) })),
  };
  return { plan, described, wgsl, bufferNotes: notes, plannedBytes: memory.plannedBytes, unplannedBytes: memory.unplannedBytes, kernels: kp, memory };
}

function leafName(program: IrProgram, name: string): string {
  if (!program.nodes.some((n) => n.attrs.op === 'leaf' && n.attrs.name === name)) throw new Error(`update of '${name}', which the program does not read`);
  return name;
}

/** The ops a kernel computes: its anchor (a piece of an op where it computes one), then its epilogue. */
function kernelOps(program: IrProgram, k: FusedKernel): string[] {
  const nodes = k.nodes.map((id) => program.nodes[id]!);
  const first = nodes[0];
  const anchor = first !== undefined && first.attrs.op === k.anchor ? opName(first) : k.anchor;
  return [anchor, ...nodes.slice(1).map(opName)];
}

/**
 * `image, conv_1: conv + bias_add + relu, 8x1x32x32 -> 8x6x28x28`: the feeds it reads and the
 * layer whose value, gradient or update its anchor computes (the epilogue may finish later layers).
 */
function describe(kp: KernelProgram, k: FusedKernel, ops: readonly string[]): string {
  const nodes = kp.program.nodes;
  const layers = new Set<string>();
  for (const v of k.args.slice(0, k.reads)) {
    const a = nodes[v]?.attrs;
    if (a?.op === 'leaf' && a.role === 'feed') layers.add(a.name);
  }
  const layer = nodes[k.source]!.layer;
  if (layer !== undefined) layers.add(layer);
  const anchor = nodes[k.source];
  const inputs = anchor === undefined ? [] : anchor.inputs.map((i) => nodes[i]!.shape).filter((s) => s.length > 0);
  const from = inputs.length === 0 ? '' : `${inputs.map(dims).join(', ')} -> `;
  const where = layers.size === 0 ? '' : `${[...layers].slice(0, 3).join(', ')}${layers.size > 3 ? ', ...' : ''}: `;
  return `${where}${ops.join(' + ')}, ${from}${dims(kp.values[k.output]!.shape)}`;
}

function phaseOf(program: IrProgram, k: FusedKernel, loss: number | undefined, updated: ReadonlySet<number>): Phase {
  const first = k.nodes[0] ?? k.source;
  const op = program.nodes[first]?.attrs.op;
  if (k.outputs.some((o) => updated.has(o)) || op === 'lr_schedule' || op?.endsWith('_apply')) return 'update';
  if (loss === undefined || first < loss) return 'forward';
  if (k.nodes.includes(loss)) return 'loss';
  return 'backward';
}
