// Softmax over a last axis, softmax cross-entropy and its gradient in WebAssembly over a range of
// rows, with the reference kernels' arithmetic (runtime/reference/kernels.ts): float64 throughout,
// the row's maximum subtracted, the same imported exp and log, the same order of operations, so
// the values are the reference's to the bit.

import { Body } from './encode.ts';
import { mathIndex } from './elementwise.ts';

export type SoftmaxSpec =
  /** y = softmax(x) along rows of `classes`. */
  | { readonly kind: 'softmax'; readonly classes: number; readonly x: number; readonly out: number }
  /** The loss per row of logits `z` against targets `t`. */
  | { readonly kind: 'cross_entropy'; readonly classes: number; readonly z: number; readonly t: number; readonly out: number }
  /** dz = dl * (softmax(z) - t), `dl` per row. */
  | { readonly kind: 'cross_entropy_grad'; readonly classes: number; readonly z: number; readonly t: number; readonly dl: number; readonly out: number };

/** A function (lo, hi, scratch) over rows [lo, hi). */
export function softmaxBody(s: SoftmaxSpec): Body {
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi] = [f.param(0), f.param(1)];
  const n = f.local('i32');
  const at = f.local('i32'); // byte offset of (n, c) in a rows x classes tensor
  const [first, end] = [f.local('i32'), f.local('i32')];
  const [m, sum, lse, acc] = [f.local('f64'), f.local('f64'), f.local('f64'), f.local('f64')];
  const z = (): Body => f.get(at).f32Load(s.kind === 'softmax' ? s.x : s.z).f64FromF32();
  const eachClass = (body: () => void): void => void f.for(at, first, end, 4, body);
  const [exp, log] = [mathIndex('exp'), mathIndex('log')];

  f.for(n, lo, hi, 1, () => {
    f.get(n).i32(s.classes * 4).i32Mul().set(first);
    f.get(first).i32(s.classes * 4).i32Add().set(end);
    // m = max over the row; sum = sum of exp(z - m)
    f.f64(-Infinity).set(m);
    eachClass(() => f.get(m).with(z).f64Max().set(m));
    f.f64(0).set(sum);
    eachClass(() => f.get(sum).with(z).get(m).f64Sub().call(exp).f64Add().set(sum));
    switch (s.kind) {
      case 'softmax':
        eachClass(() => f.get(at).with(z).get(m).f64Sub().call(exp).get(sum).f64Div().f32FromF64().f32Store(s.out));
        break;
      case 'cross_entropy': {
        // loss = -sum of t * (z - (m + log(sum)))
        const t = (): Body => f.get(at).f32Load(s.t).f64FromF32();
        f.get(m).get(sum).call(log).f64Add().set(lse);
        f.f64(0).set(acc);
        eachClass(() => f.get(acc).with(t).with(z).get(lse).f64Sub().f64Mul().f64Sub().set(acc));
        f.get(n).i32(4).i32Mul().get(acc).f32FromF64().f32Store(s.out);
        break;
      }
      case 'cross_entropy_grad': {
        const t = (): Body => f.get(at).f32Load(s.t).f64FromF32();
        f.get(n).i32(4).i32Mul().f32Load(s.dl).f64FromF32().set(acc);
        eachClass(() => f.get(at).get(acc).with(z).get(m).f64Sub().call(exp).get(sum).f64Div().with(t).f64Sub().f64Mul().f32FromF64().f32Store(s.out));
        break;
      }
    }
  });
  return f;
}
