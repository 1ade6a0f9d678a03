// A small seeded PRNG (xoshiro128**, seeded through splitmix32) whose whole state is four 32-bit words,
// so it can be saved in a checkpoint and restored exactly: training resumes on the same next batch.
// Math.random is never used for anything that must be reproducible.

import { UserError } from '../../grammar/user-error.ts';

export class RngStateError extends UserError {
  constructor(state: string) {
    super(`bad RNG state ${JSON.stringify(state)}: expected 'xoshiro128ss:' followed by 32 hex digits, not all zero`);
    this.name = 'RngStateError';
  }
}

const STATE_PREFIX = 'xoshiro128ss:';

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Rng {
  private s: Uint32Array;

  private constructor(s: Uint32Array) {
    this.s = s;
  }

  /**
   * A generator for `seed` and optional extra keys (epoch, batch index, example index...). Different keys give
   * independent streams, so work split across threads can draw the same numbers as one thread would.
   */
  static seeded(seed: number, ...keys: number[]): Rng {
    const s = new Uint32Array(4);
    let h = splitmix32(seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (const k of keys) h = splitmix32((h ^ splitmix32(k >>> 0) ^ Math.floor(k / 2 ** 32)) >>> 0);
    for (let i = 0; i < 4; i++) {
      h = splitmix32((h + i * 0x632be5ab) >>> 0);
      s[i] = h;
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    return new Rng(s);
  }

  /** Restores a generator from `state()`. */
  static fromState(state: string): Rng {
    if (!state.startsWith(STATE_PREFIX)) throw new RngStateError(state);
    const hex = state.slice(STATE_PREFIX.length);
    if (!/^[0-9a-f]{32}$/.test(hex)) throw new RngStateError(state);
    const s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) s[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new RngStateError(state);
    return new Rng(s);
  }

  /** The whole state as a string, e.g. for a checkpoint's metadata. */
  state(): string {
    return STATE_PREFIX + Array.from(this.s, (w) => w.toString(16).padStart(8, '0')).join('');
  }

  clone(): Rng {
    return new Rng(this.s.slice());
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`Rng.int needs an integer bound in 1..2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box-Muller; no cached spare, so the state stays four words). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[] | Int32Array | Uint32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
  }

  /** A shuffled permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
}
