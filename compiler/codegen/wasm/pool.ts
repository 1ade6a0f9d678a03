// Window pooling and its gradient in WebAssembly over a range of planes (n, c), with the
// reference semantics (ops.ts: in-bounds elements only, avg divides by their count, the first
// maximum in row-major window order takes the gradient). Windows that always lie inside x
// (no padding, no ragged edge) are unrolled with their offsets folded in; others loop over the
// in-bounds part of each window.

import type { PoolOpAttrs } from '../../ir/ops.ts';
import { three } from './conv.ts';
import { Body } from './encode.ts';

export interface PoolSpec {
  readonly attrs: Omit<PoolOpAttrs, 'op'>;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
  /** Forward: y from x. Backward: dx (x's shape) from dy and x. */
  readonly backward: boolean;
  readonly x: number;
  readonly y: number;
  /** The gradient's dy (backward only). */
  readonly dy: number;
}

/** A function (lo, hi, scratch) over planes [lo, hi). */
export function poolBody(s: PoolSpec): Body {
  const f = new Body(['i32', 'i32', 'i32']);
  const [lo, hi] = [f.param(0), f.param(1)];
  const S = three(s.xShape.slice(2), 1);
  const O = three(s.yShape.slice(2), 1);
  const K = three(s.attrs.kernel, 1);
  const T = three(s.attrs.stride, 1);
  const P = three(s.attrs.padBefore, 0);
  const plane = S[0] * S[1] * S[2];
  const outPlane = O[0] * O[1] * O[2];
  const max = s.attrs.mode === 'max';
  const full = [0, 1, 2].every((a) => P[a] === 0 && (O[a]! - 1) * T[a]! + K[a]! <= S[a]!);

  const p = f.local('i32');
  const q = [f.local('i32'), f.local('i32'), f.local('i32')];
  const base = f.local('i32'); // byte offset of the window's first element in the plane set
  const yo = f.local('i32'); // byte offset of the output element
  const best = f.local('f32');
  const bestAt = f.local('i32');
  const sum = f.local('f32');
  const count = f.local('i32');
  const v = f.local('f32');
  const g = f.local('f32');
  const w = [f.local('i32'), f.local('i32'), f.local('i32')];
  const wlo = [f.local('i32'), f.local('i32'), f.local('i32')];
  const whi = [f.local('i32'), f.local('i32'), f.local('i32')];
  const at = f.local('i32');

  const [xs, dys, outs] = s.backward ? [s.x, s.dy, s.y] : [s.x, 0, s.y];

  /** Visits the window's in-bounds elements; `visit` sees their byte offset in local `at`. */
  const eachTap = (visit: () => void): void => {
    if (full) {
      for (let k0 = 0; k0 < K[0]; k0++) for (let k1 = 0; k1 < K[1]; k1++) for (let k2 = 0; k2 < K[2]; k2++) {
        f.get(base).i32(((k0 * S[1] + k1) * S[2] + k2) * 4).i32Add().set(at);
        visit();
      }
      return;
    }
    f.for(w[0]!, wlo[0]!, whi[0]!, 1, () => {
      f.for(w[1]!, wlo[1]!, whi[1]!, 1, () => {
        f.for(w[2]!, wlo[2]!, whi[2]!, 1, () => {
          f.get(p).i32(plane).i32Mul();
          f.get(w[0]!).i32(S[1] * S[2]).i32Mul().i32Add();
          f.get(w[1]!).i32(S[2]).i32Mul().i32Add().get(w[2]!).i32Add().i32(4).i32Mul().set(at);
          visit();
        });
      });
    });
  };
  /** lo/hi of the window on axis a (clamped), and the count of in-bounds elements. */
  const bounds = (): void => {
    f.i32(1).set(count);
    for (let a = 0; a < 3; a++) {
      const start = (): Body => f.get(q[a]!).i32(T[a]!).i32Mul().i32(-P[a]!).i32Add();
      // lo = max(0, start), hi = min(S, start + K)
      start();
      f.i32(0);
      start().i32(0).i32GeS().select().set(wlo[a]!);
      start().i32(K[a]!).i32Add();
      f.i32(S[a]!);
      start().i32(K[a]!).i32Add().i32(S[a]!).i32LtS().select().set(whi[a]!);
      f.get(count).get(whi[a]!).get(wlo[a]!).i32Sub().i32Mul().set(count);
    }
  };

  f.for(p, lo, hi, 1, () => {
    if (s.backward) f.get(p).i32(plane * 4).i32Mul().i32(outs).i32Add().i32(0).i32(plane * 4).memFill();
    f.for(q[0]!, 0, O[0], 1, () => {
      f.for(q[1]!, 0, O[1], 1, () => {
        f.for(q[2]!, 0, O[2], 1, () => {
          f.get(p).i32(outPlane).i32Mul();
          f.get(q[0]!).i32(O[1] * O[2]).i32Mul().i32Add();
          f.get(q[1]!).i32(O[2]).i32Mul().i32Add().get(q[2]!).i32Add().i32(4).i32Mul().set(yo);
          if (full) {
            f.get(p).i32(plane).i32Mul();
            f.get(q[0]!).i32(T[0] * S[1] * S[2]).i32Mul().i32Add();
            f.get(q[1]!).i32(T[1] * S[2]).i32Mul().i32Add();
            f.get(q[2]!).i32(T[2]).i32Mul().i32Add().i32(4).i32Mul().set(base);
            f.i32(K[0] * K[1] * K[2]).set(count);
          } else bounds();
          if (max) {
            f.i32(-1).set(bestAt);
            eachTap(() => {
              f.get(at).f32Load(xs).set(v);
              // Take it if it is the first, or strictly greater: the first maximum wins.
              f.get(bestAt).i32(0).i32LtS().get(v).get(best).f32Gt().i32Or().if();
              f.get(v).set(best).get(at).set(bestAt).end();
            });
            if (s.backward) f.get(bestAt).get(bestAt).f32Load(outs).get(yo).f32Load(dys).f32Add().f32Store(outs);
            else f.get(yo).get(best).f32Store(outs);
          } else if (s.backward) {
            f.get(yo).f32Load(dys).get(count).f32ConvertI32U().f32Div().set(g);
            eachTap(() => f.get(at).get(at).f32Load(outs).get(g).f32Add().f32Store(outs));
          } else {
            f.f32(0).set(sum);
            eachTap(() => f.get(sum).get(at).f32Load(xs).f32Add().set(sum));
            f.get(yo).get(sum).get(count).f32ConvertI32U().f32Div().f32Store(outs);
          }
        });
      });
    });
  });
  return f;
}
