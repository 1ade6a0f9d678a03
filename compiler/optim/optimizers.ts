// Optimizers as IR: appends the update of every trainable tensor (SGD, momentum, RMSprop, Adam,
// with L2 weight decay and a learning-rate schedule) to a graph. PyTorch's update rules.

import type { GraphBuilder } from '../ir/build.ts';
import type { IrUpdate } from '../ir/program.ts';
import { ProgramRequestError } from '../program-request-error.ts';

export type Schedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly totalSteps: number; readonly minLr?: number };

export interface OptimizerConfig {
  readonly kind: 'sgd' | 'momentum' | 'rmsprop' | 'adam';
  readonly lr: number;
  /** Momentum coefficient (momentum; PyTorch SGD, no dampening). Default 0.9. */
  readonly momentum?: number;
  /** RMSprop's squared-gradient decay (PyTorch alpha). Default 0.99. */
  readonly rho?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  /** RMSprop default 1e-8, Adam default 1e-8. */
  readonly eps?: number;
  /** L2 weight decay: g += weightDecay * p for every trained tensor (PyTorch weight_decay). */
  readonly weightDecay?: number;
  readonly schedule?: Schedule;
}

export interface TrainedTensor {
  readonly name: string;
  readonly node: number;
  readonly grad: number;
  readonly shape: readonly number[];
}

/** The step counter: updates already done (f32, exact), persistent. */
export const STEP_STATE = 'optim/step';

/** Names of an optimizer's slot tensors for one trained tensor. */
export function slotName(param: string, slot: 'velocity' | 'm' | 'v'): string {
  return `optim/${param}/${slot}`;
}

/** Slot tensors (and the step counter) an optimizer keeps, with shapes: all start at zero. */
export function optimizerState(config: OptimizerConfig, tensors: readonly { name: string; shape: readonly number[] }[]): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>([[STEP_STATE, []]]);
  for (const t of tensors) {
    if (config.kind === 'momentum') out.set(slotName(t.name, 'velocity'), t.shape);
    if (config.kind === 'rmsprop') out.set(slotName(t.name, 'v'), t.shape);
    if (config.kind === 'adam') {
      out.set(slotName(t.name, 'm'), t.shape);
      out.set(slotName(t.name, 'v'), t.shape);
    }
  }
  return out;
}

/** Appends the update ops; returns the assignments (params, slots, step counter). */
export function appendOptimizer(b: GraphBuilder, config: OptimizerConfig, tensors: readonly TrainedTensor[]): IrUpdate[] {
  if (!(config.lr > 0)) throw new ProgramRequestError(`learning rate must be positive, got ${config.lr}`);
  const step = b.leaf(STEP_STATE, 'state', []);
  const next = b.affine(step, 1, 1);
  const s = config.schedule ?? { kind: 'constant' };
  const lr = b.add(
    {
      op: 'lr_schedule',
      kind: s.kind,
      base: config.lr,
      stepSize: s.kind === 'step' ? s.stepSize : 1,
      gamma: s.kind === 'step' ? s.gamma : 1,
      totalSteps: s.kind === 'cosine' ? s.totalSteps : 1,
      minLr: s.kind === 'cosine' ? s.minLr ?? 0 : 0,
    },
    [step],
    [],
  );
  const wd = config.weightDecay ?? 0;
  const updates: IrUpdate[] = [];
  // Each tensor's update belongs to its layer (a trainable input is its own).
  for (const t of tensors) b.within(b.node(t.node).layer ?? t.name, () => {
    const g = wd !== 0 ? b.axpby(1, t.grad, wd, t.node) : t.grad;
    const state = (slot: 'velocity' | 'm' | 'v'): number => b.leaf(slotName(t.name, slot), 'state', t.shape);
    switch (config.kind) {
      case 'sgd':
        updates.push({ name: t.name, value: b.add({ op: 'sgd_apply' }, [t.node, g, lr], t.shape) });
        break;
      case 'momentum': {
        const v = b.axpby(config.momentum ?? 0.9, state('velocity'), 1, g);
        updates.push({ name: slotName(t.name, 'velocity'), value: v });
        updates.push({ name: t.name, value: b.add({ op: 'sgd_apply' }, [t.node, v, lr], t.shape) });
        break;
      }
      case 'rmsprop': {
        const rho = config.rho ?? 0.99;
        const v = b.axpby(rho, state('v'), 1 - rho, b.unary('square', g));
        updates.push({ name: slotName(t.name, 'v'), value: v });
        updates.push({ name: t.name, value: b.add({ op: 'rmsprop_apply', eps: config.eps ?? 1e-8 }, [t.node, g, v, lr], t.shape) });
        break;
      }
      case 'adam': {
        const [beta1, beta2] = [config.beta1 ?? 0.9, config.beta2 ?? 0.999];
        const m = b.axpby(beta1, state('m'), 1 - beta1, g);
        const v = b.axpby(beta2, state('v'), 1 - beta2, b.unary('square', g));
        updates.push({ name: slotName(t.name, 'm'), value: m });
        updates.push({ name: slotName(t.name, 'v'), value: v });
        const p = b.add({ op: 'adam_apply', beta1, beta2, eps: config.eps ?? 1e-8 }, [t.node, m, v, lr, next], t.shape);
        updates.push({ name: t.name, value: p });
        break;
      }
    }
  });
  updates.push({ name: STEP_STATE, value: next });
  return updates;
}
