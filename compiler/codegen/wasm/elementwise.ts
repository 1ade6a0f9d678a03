// WebAssembly for the fusable elementwise ops (the same set as the WGSL back end's epilogues):
// each op pushes its value from operand pushers, as f32x4 (four elements at once) where the op
// has a vector form, else as f32. Transcendental functions call the imported math functions in
// float64, as the reference executor computes them.

import type { OpAttrs, UnaryFn } from '../../ir/ops.ts';
import type { Body, ImportedFunction } from './encode.ts';

export type Lanes = 'f32' | 'f32x4';

/** Pushes one operand's value (a local, a literal or a load) in the current lane mode. */
export type Operand = () => void;

/**
 * Math functions the kernels import (module "math"), float64 as in the reference executor. Self-
 * contained (it reads nothing outside itself): kernel threads get it as source text.
 */
export function mathFunctions() {
  return {
    exp: Math.exp,
    log: Math.log,
    tanh: Math.tanh,
    sigmoid: (v: number): number => 1 / (1 + Math.exp(-v)),
    tanhGrad: (v: number): number => 1 - Math.tanh(v) ** 2,
    sigmoidGrad: (v: number): number => {
      const s = 1 / (1 + Math.exp(-v));
      return s * (1 - s);
    },
    softplus: (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
    sign: Math.sign,
    pow: Math.pow,
  } as const;
}

export const MATH_FUNCTIONS = mathFunctions();

export type MathName = keyof typeof MATH_FUNCTIONS;

export const MATH_IMPORTS: readonly (ImportedFunction & { readonly name: MathName })[] = (Object.keys(MATH_FUNCTIONS) as MathName[]).map((name) => ({
  module: 'math',
  name,
  params: name === 'pow' ? ['f64', 'f64'] : ['f64'],
  results: ['f64'],
}));

/** Import index of each math function (imports are the module's first functions, in this order). */
export const mathIndex = (name: MathName): number => MATH_IMPORTS.findIndex((m) => m.name === name);

const UNARY_VECTOR: ReadonlySet<UnaryFn> = new Set(['neg', 'sqrt', 'rsqrt', 'square', 'abs', 'relu', 'leaky_relu', 'step']);
const UNARY_GRAD_VECTOR: ReadonlySet<UnaryFn> = new Set(['neg', 'sqrt', 'rsqrt', 'square', 'relu', 'leaky_relu', 'step', 'sign', 'log']);

/** Whether an op has an f32x4 form. */
export function hasVectorForm(attrs: OpAttrs): boolean {
  switch (attrs.op) {
    case 'unary': return UNARY_VECTOR.has(attrs.fn);
    case 'unary_grad': return UNARY_GRAD_VECTOR.has(attrs.fn);
    case 'adam_apply': return false;
    default: return true;
  }
}

/** Emits code pushing the value of a fusable op over its operands, in `lanes` mode. */
export function emitElementwise(f: Body, attrs: OpAttrs, a: readonly Operand[], lanes: Lanes): void {
  const v = lanes === 'f32x4';
  const k = (c: number): Body => (v ? f.v128Const(c) : f.f32(c));
  const add = (): Body => (v ? f.vAdd() : f.f32Add());
  const sub = (): Body => (v ? f.vSub() : f.f32Sub());
  const mul = (): Body => (v ? f.vMul() : f.f32Mul());
  const div = (): Body => (v ? f.vDiv() : f.f32Div());
  const sqrt = (): Body => (v ? f.vSqrt() : f.f32Sqrt());
  const gt0 = (x: Operand): void => {
    x();
    k(0);
    if (v) f.vGt();
    else f.f32Gt();
  };
  /** x > 0 ? p : q */
  const pick = (x: Operand, p: Operand, q: Operand): void => {
    p();
    q();
    gt0(x);
    if (v) f.vBitselect();
    else f.select();
  };
  const math = (name: MathName, x: Operand): void => {
    x();
    f.f64FromF32().call(mathIndex(name)).f32FromF64();
  };
  const [x, y] = [a[0]!, a[1]!];
  switch (attrs.op) {
    case 'unary':
      switch (attrs.fn) {
        case 'neg': x(); if (v) f.vNeg(); else f.f32Neg(); return;
        case 'sqrt': x(); sqrt(); return;
        case 'rsqrt': k(1); x(); sqrt(); div(); return;
        case 'square': x(); x(); mul(); return;
        case 'abs': x(); if (v) f.vAbs(); else f.f32Abs(); return;
        case 'relu':
          if (v) { k(0); x(); f.vPmax(); } else pick(x, x, () => k(0));
          return;
        case 'leaky_relu': pick(x, x, () => { k(attrs.alpha); x(); mul(); }); return;
        case 'step': pick(x, () => k(1), () => k(0)); return;
        case 'exp': case 'log': case 'tanh': case 'sigmoid': case 'softplus': case 'sign': math(attrs.fn, x); return;
      }
      break;
    case 'unary_grad': {
      const [dy, xv] = [x, y];
      switch (attrs.fn) {
        case 'neg': dy(); if (v) f.vNeg(); else f.f32Neg(); return;
        case 'sqrt': dy(); k(0.5); xv(); sqrt(); div(); mul(); return;
        case 'rsqrt': dy(); k(-0.5); k(1); xv(); sqrt(); div(); mul(); xv(); div(); mul(); return;
        case 'square': dy(); k(2); xv(); mul(); mul(); return;
        case 'relu': pick(xv, dy, () => k(0)); return;
        case 'leaky_relu': pick(xv, dy, () => { k(attrs.alpha); dy(); mul(); }); return;
        case 'sign': case 'step': k(0); return;
        case 'log': dy(); xv(); div(); return;
        case 'abs': dy(); math('sign', xv); mul(); return;
        case 'exp': dy(); math('exp', xv); mul(); return;
        case 'tanh': dy(); math('tanhGrad', xv); mul(); return;
        case 'sigmoid': dy(); math('sigmoidGrad', xv); mul(); return;
        case 'softplus': dy(); math('sigmoid', xv); mul(); return;
      }
      break;
    }
    case 'binary':
      x();
      y();
      switch (attrs.fn) {
        case 'add': add(); return;
        case 'sub': sub(); return;
        case 'mul': mul(); return;
        case 'div': div(); return;
        case 'max': if (v) f.vMax(); else f.f32Max(); return;
        case 'min': if (v) f.vMin(); else f.f32Min(); return;
      }
      break;
    case 'affine': x(); k(attrs.mul); mul(); k(attrs.add); add(); return;
    case 'axpby': k(attrs.a); x(); mul(); k(attrs.b); y(); mul(); add(); return;
    case 'sgd_apply': x(); a[2]!(); y(); mul(); sub(); return;
    case 'rmsprop_apply': x(); a[3]!(); y(); mul(); a[2]!(); sqrt(); k(attrs.eps); add(); div(); sub(); return;
    case 'adam_apply': {
      // p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
      const pow = (beta: number): void => {
        f.f32(1);
        f.f32(beta).f64FromF32();
        a[4]!();
        f.f64FromF32().call(mathIndex('pow')).f32FromF64().f32Sub();
      };
      x(); a[3]!(); y(); pow(attrs.beta1); f.f32Div().f32Mul();
      a[2]!(); pow(attrs.beta2); f.f32Div().f32Sqrt().f32(attrs.eps).f32Add().f32Div().f32Sub();
      return;
    }
    case 'bias_add': x(); y(); add(); return;
    case 'batchnorm':
      x(); y(); sub(); a[2]!(); k(attrs.eps); add(); sqrt(); div(); a[3]!(); mul(); a[4]!(); add();
      return;
    default:
      break;
  }
  throw new Error(`emitElementwise: op '${attrs.op}' is not elementwise`);
}
