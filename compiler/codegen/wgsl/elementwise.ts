// WGSL expressions for the elementwise ops (and the per-channel ops bias_add and inference
// batchnorm), given the WGSL expressions of their inputs. Used alone and in fused epilogues.

import type { BinaryFn, UnaryFn } from '../../ir/ops.ts';
import type { ElementwiseAttrs } from '../../ir/traits.ts';
import { f32Lit } from './kernel.ts';

/**
 * log1p(exp(-|x|)) without a log1p builtin. With u = exp(-|x|) in (0, 1]: below 0.01 the series
 * u - u^2/2 + u^3/3 - u^4/4 (relative error under 1e-8), above it log(1 + u). The series is used
 * rather than the `log(w) * u / (w - 1)` trick because some drivers (Mesa's GLES) reassociate
 * `w - 1` back into `u` and lose it.
 */
function log1pExpNegAbs(x: string): string {
  const u = `exp(-abs(${x}))`;
  return `select(log(1.0 + ${u}), ${u} * (1.0 - ${u} * (0.5 - ${u} * (0.33333334 - ${u} * 0.25))), ${u} < 0.01)`;
}

function unaryExpr(fn: UnaryFn, x: string, alpha: number): string {
  switch (fn) {
    case 'neg': return `(-${x})`;
    case 'exp': return `exp(${x})`;
    case 'log': return `log(${x})`;
    case 'sqrt': return `sqrt(${x})`;
    case 'rsqrt': return `inverseSqrt(${x})`;
    case 'square': return `(${x} * ${x})`;
    case 'abs': return `abs(${x})`;
    case 'sign': return `sign(${x})`;
    case 'relu': return `max(${x}, 0.0)`;
    case 'leaky_relu': return `select(${f32Lit(alpha)} * ${x}, ${x}, ${x} > 0.0)`;
    case 'tanh': return `tanh(${x})`;
    case 'sigmoid': return `(1.0 / (1.0 + exp(-${x})))`;
    case 'softplus': return `(max(${x}, 0.0) + ${log1pExpNegAbs(x)})`;
    case 'step': return `select(0.0, 1.0, ${x} > 0.0)`;
  }
}

function unaryGradExpr(fn: UnaryFn, dy: string, x: string, alpha: number): string {
  switch (fn) {
    case 'neg': return `(-${dy})`;
    case 'exp': return `(${dy} * exp(${x}))`;
    case 'log': return `(${dy} / ${x})`;
    case 'sqrt': return `(${dy} * 0.5 / sqrt(${x}))`;
    case 'rsqrt': return `(${dy} * -0.5 * inverseSqrt(${x}) / ${x})`;
    case 'square': return `(${dy} * 2.0 * ${x})`;
    case 'abs': return `(${dy} * sign(${x}))`;
    case 'sign':
    case 'step': return `0.0`;
    case 'relu': return `select(0.0, ${dy}, ${x} > 0.0)`;
    case 'leaky_relu': return `select(${f32Lit(alpha)} * ${dy}, ${dy}, ${x} > 0.0)`;
    case 'tanh': return `(${dy} * (1.0 - tanh(${x}) * tanh(${x})))`;
    case 'sigmoid': return `(${dy} * (1.0 / (1.0 + exp(-${x}))) * (1.0 - 1.0 / (1.0 + exp(-${x}))))`;
    case 'softplus': return `(${dy} / (1.0 + exp(-${x})))`;
  }
}

function binaryExpr(fn: BinaryFn, x: string, y: string): string {
  switch (fn) {
    case 'add': return `(${x} + ${y})`;
    case 'sub': return `(${x} - ${y})`;
    case 'mul': return `(${x} * ${y})`;
    case 'div': return `(${x} / ${y})`;
    case 'max': return `max(${x}, ${y})`;
    case 'min': return `min(${x}, ${y})`;
  }
}

/** The WGSL expression of an elementwise op applied to argument expressions `a` (in input order). */
export function elementwiseExpr(attrs: ElementwiseAttrs, a: readonly string[]): string {
  switch (attrs.op) {
    case 'unary': return unaryExpr(attrs.fn, a[0]!, attrs.alpha);
    case 'unary_grad': return unaryGradExpr(attrs.fn, a[0]!, a[1]!, attrs.alpha);
    case 'binary': return binaryExpr(attrs.fn, a[0]!, a[1]!);
    case 'affine': return `(${a[0]} * ${f32Lit(attrs.mul)} + ${f32Lit(attrs.add)})`;
    case 'axpby': return `(${f32Lit(attrs.a)} * ${a[0]} + ${f32Lit(attrs.b)} * ${a[1]})`;
    case 'sgd_apply': return `(${a[0]} - ${a[2]} * ${a[1]})`;
    case 'rmsprop_apply': return `(${a[0]} - ${a[3]} * ${a[1]} / (sqrt(${a[2]}) + ${f32Lit(attrs.eps)}))`;
    case 'adam_apply':
      return `(${a[0]} - ${a[3]} * (${a[1]} / (1.0 - pow(${f32Lit(attrs.beta1)}, ${a[4]}))) / ` +
        `(sqrt(${a[2]} / (1.0 - pow(${f32Lit(attrs.beta2)}, ${a[4]}))) + ${f32Lit(attrs.eps)}))`;
    case 'bias_add': return `(${a[0]} + ${a[1]})`;
    case 'batchnorm':
      return `((${a[0]} - ${a[1]}) * inverseSqrt(${a[2]} + ${f32Lit(attrs.eps)}) * ${a[3]} + ${a[4]})`;
  }
}
