// Lowering IR to kernel IR: one kernel op per IR node, except that leaves and reshapes need no
// kernel (a reshape shares its input's buffer), consts feeding only elementwise ops become
// literals, and some ops become several kernels through scratch tensors: training batchnorm
// (statistics, then apply), convolution gradients by conv-grad-plan.ts (split-K partial sums,
// or columns then col2im), and concats of more inputs than a kernel may bind.

import type { IrNode } from '../ir/ops.ts';
import { sizeOf } from '../ir/ops.ts';
import { resultsOf, type IrProgram } from '../ir/program.ts';
import { OP_TRAITS } from '../ir/traits.ts';
import type { Tiling } from '../codegen/wgsl/tiled.ts';
import { inputGradByColumns, weightGradSplits, type ConvGradForm } from './conv-grad-plan.ts';
import type { KernelAttrs } from './kernel-ops.ts';

/** A tensor the kernels read or write: an IR node's value, or a scratch tensor (ids past the nodes). */
export interface ValueInfo {
  readonly id: number;
  readonly shape: readonly number[];
  readonly kind: 'leaf' | 'const' | 'node' | 'scratch';
}

/** One kernel op: computes value `output` of `shape` from the values `inputs`. */
export interface KernelNode {
  readonly attrs: KernelAttrs;
  readonly inputs: readonly number[];
  readonly shape: readonly number[];
  readonly output: number;
  /** The IR node whose value this kernel computes (absent for a partial result in scratch). */
  readonly node?: number;
  /** The IR node it was lowered from. */
  readonly source: number;
  /** Where it runs among the others: its IR node's id (scratch producers just before it). */
  readonly order: number;
}

export interface KernelGraph {
  readonly program: IrProgram;
  /** In IR order; a node's pieces in the order they run. */
  readonly kernels: readonly KernelNode[];
  readonly values: readonly ValueInfo[];
  /** Value holding each node's data (reshape nodes share their input's buffer). */
  readonly storageOf: (id: number) => number;
}

export interface LowerKernelOptions {
  /** Most storage buffers one kernel may bind (inputs and output). */
  readonly maxStorageBuffers: number;
  readonly tiling: Tiling;
  /** How convolution gradients are computed (default: by estimated work). */
  readonly convGrad?: ConvGradForm;
}

export function lowerToKernels(program: IrProgram, options: LowerKernelOptions): KernelGraph {
  const nodes = program.nodes;
  const values: ValueInfo[] = nodes.map((n) => ({ id: n.id, shape: n.shape, kind: n.attrs.op === 'leaf' ? 'leaf' : n.attrs.op === 'const' ? 'const' : 'node' }));
  const alias = new Map<number, number>();
  const storageOf = (id: number): number => alias.get(id) ?? id;
  for (const n of nodes) if (OP_TRAITS[n.attrs.op].kind === 'view') alias.set(n.id, storageOf(n.inputs[0]!));
  const limit = options.maxStorageBuffers;
  const convGrad = options.convGrad ?? 'auto';
  const constNeedsBuffer = constsNeedingBuffers(program, storageOf);

  const kernels: KernelNode[] = [];
  const scratch = (shape: readonly number[]): number => {
    const id = values.length;
    values.push({ id, shape, kind: 'scratch' });
    return id;
  };
  /** A kernel computing node n's value, or (with `into`) a partial result for it. */
  const emit = (n: IrNode, attrs: KernelAttrs, inputs: readonly number[], into?: { readonly value: number; readonly shape: readonly number[] }): void => {
    kernels.push(into === undefined
      ? { attrs, inputs, shape: n.shape, output: n.id, node: n.id, source: n.id, order: n.id }
      : { attrs, inputs, shape: into.shape, output: into.value, source: n.id, order: n.id - 0.5 });
  };
  const part = (shape: readonly number[]): { value: number; shape: readonly number[] } => ({ value: scratch(shape), shape });

  for (const n of nodes) {
    const a = n.attrs;
    switch (a.op) {
      case 'leaf':
      case 'reshape':
        continue;
      case 'const':
        if (constNeedsBuffer.has(n.id)) emit(n, a, []);
        continue;
      case 'batchnorm_train': {
        const [x, g, b] = n.inputs;
        const st = part([2 * n.shape[1]!]);
        emit(n, { op: 'bn_stats' }, [x!], st);
        emit(n, { op: 'bn_apply', eps: a.eps }, [x!, g!, b!, st.value]);
        continue;
      }
      case 'batchnorm_train_grad_x': {
        const [dy, x, g] = n.inputs;
        const st = part([4 * n.shape[1]!]);
        emit(n, { op: 'bn_grad_stats', eps: a.eps }, [dy!, x!], st);
        emit(n, { op: 'bn_grad_x_apply', eps: a.eps }, [dy!, x!, g!, st.value]);
        continue;
      }
      case 'concat':
        if (new Set(n.inputs.map(storageOf)).size + 1 > limit) {
          emit(n, a, concatTree(n, a.axis));
          continue;
        }
        break;
      case 'conv_grad_weight': {
        const [x, dy] = n.inputs;
        const splits = weightGradSplits(values[dy!]!.shape, n.shape, options.tiling, convGrad);
        if (splits > 1) {
          const parts = part([splits, ...n.shape]);
          emit(n, { ...a, op: 'conv_grad_weight_split', splits }, [x!, dy!], parts);
          emit(n, { op: 'sum_splits', splits }, [parts.value]);
          continue;
        }
        break;
      }
      case 'conv_grad_input': {
        const [dy, w] = n.inputs;
        const [dyShape, wShape] = [values[dy!]!.shape, values[w!]!.shape];
        if (inputGradByColumns(dyShape, wShape, n.shape, options.tiling, convGrad)) {
          const columns = part([sizeOf(wShape) / wShape[0]!, dyShape[0]! * sizeOf(dyShape.slice(2))]);
          emit(n, { ...a, op: 'conv_grad_columns' }, [dy!, w!], columns);
          emit(n, { ...a, op: 'col2im', kernel: wShape.slice(2), outSpatial: dyShape.slice(2) }, [columns.value]);
          continue;
        }
        break;
      }
      default:
        break;
    }
    emit(n, a, n.inputs);
  }

  /** A concat of more inputs than a kernel may bind: runs of inputs go into scratch tensors first. */
  function concatTree(n: IrNode, axis: number): number[] {
    let parts = [...n.inputs];
    while (new Set(parts.map(storageOf)).size + 1 > limit) {
      const next: number[] = [];
      for (let i = 0; i < parts.length; i += limit - 1) {
        const run = parts.slice(i, i + limit - 1);
        if (run.length === 1) {
          next.push(run[0]!);
          continue;
        }
        const into = part(values[run[0]!]!.shape.map((d, ax) => (ax === axis ? run.reduce((sum, v) => sum + values[v]!.shape[ax]!, 0) : d)));
        emit(n, { op: 'concat', axis }, run, into);
        next.push(into.value);
      }
      parts = next;
    }
    return parts;
  }

  return { program, kernels, values, storageOf };
}

/** Consts read by anything but elementwise ops, or returned, get a kernel that fills a buffer. */
function constsNeedingBuffers(program: IrProgram, storageOf: (id: number) => number): Set<number> {
  const nodes = program.nodes;
  const out = new Set<number>();
  for (const n of nodes) {
    if (OP_TRAITS[n.attrs.op].kind === 'view') continue;
    for (const i of n.inputs) {
      const s = storageOf(i);
      if (nodes[s]?.attrs.op === 'const' && !(OP_TRAITS[n.attrs.op].kind === 'elementwise' && sizeOf(nodes[s]!.shape) >= 1)) out.add(s);
    }
  }
  for (const v of resultsOf(program)) {
    if (nodes[storageOf(v)]!.attrs.op === 'const') out.add(storageOf(v));
  }
  return out;
}
