// A small writer of the WebAssembly binary format: one module importing a memory and a few math
// functions, with function bodies built instruction by instruction (MVP, bulk memory and 128-bit
// SIMD opcodes). Writing the bytes directly keeps kernels generated at run time free of any
// toolchain: a compiled program becomes a module in milliseconds, in Node and in a page alike.

export type ValType = 'i32' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const f32Bytes = new Uint8Array(4);
const f32View = new DataView(f32Bytes.buffer);
const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);

/** A local variable of a function body (parameters are locals 0..n-1). */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** Memory access immediates: byte offset folded into the instruction. */
const memarg = (out: number[], align: number, offset: number): void => {
  uleb(out, align);
  uleb(out, offset);
};

/**
 * A function body under construction. Methods append one instruction each and return `this`, so
 * kernels read as the instruction sequence they produce.
 */
export class Body {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[] = []) {}

  param(i: number): Local {
    return { index: i, type: this.params[i]! };
  }

  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(sub: number): this {
    this.code.push(0xfd);
    uleb(this.code, sub);
    return this;
  }

  // ---- control ----
  unreachable(): this { return this.op(0x00); }
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }
  call(fn: number): this { this.code.push(0x10); uleb(this.code, fn); return this; }
  select(): this { return this.op(0x1b); }
  drop(): this { return this.op(0x1a); }

  /** Emits `code` in place, for a chain that pushes a value some helper computes. */
  with(code: () => unknown): this {
    code();
    return this;
  }

  // ---- locals ----
  get(l: Local): this { this.code.push(0x20); uleb(this.code, l.index); return this; }
  set(l: Local): this { this.code.push(0x21); uleb(this.code, l.index); return this; }
  tee(l: Local): this { this.code.push(0x22); uleb(this.code, l.index); return this; }

  // ---- constants ----
  i32(v: number): this { this.code.push(0x41); sleb(this.code, v | 0); return this; }
  f32(v: number): this {
    f32View.setFloat32(0, v, true);
    return this.op(0x43, ...f32Bytes);
  }

  f64(v: number): this {
    f64View.setFloat64(0, v, true);
    return this.op(0x44, ...f64Bytes);
  }

  // ---- memory (addresses are i32 byte addresses; offset is folded in) ----
  f32Load(offset = 0): this { this.code.push(0x2a); memarg(this.code, 2, offset); return this; }
  f32Store(offset = 0): this { this.code.push(0x38); memarg(this.code, 2, offset); return this; }
  i32Store(offset = 0): this { this.code.push(0x36); memarg(this.code, 2, offset); return this; }
  v128Load(offset = 0): this { this.simd(0x00); memarg(this.code, 4, offset); return this; }
  v128Store(offset = 0): this { this.simd(0x0b); memarg(this.code, 4, offset); return this; }
  /** One f32 into every lane. */
  v128Load32Splat(offset = 0): this { this.simd(0x09); memarg(this.code, 2, offset); return this; }
  /** Two f32 (8 bytes) into the low half of a v128, the rest zero. */
  v128Load64Zero(offset = 0): this { this.simd(0x5d); memarg(this.code, 3, offset); return this; }
  /** memory.fill(dest, value, bytes) */
  memFill(): this { this.code.push(0xfc); uleb(this.code, 11); this.code.push(0x00); return this; }
  /** memory.copy(dest, src, bytes) */
  memCopy(): this { this.code.push(0xfc); uleb(this.code, 10); this.code.push(0x00, 0x00); return this; }

  // ---- i32 ----
  i32Eqz(): this { return this.op(0x45); }
  i32Ne(): this { return this.op(0x47); }
  i32LtS(): this { return this.op(0x48); }
  i32LtU(): this { return this.op(0x49); }
  i32GeS(): this { return this.op(0x4e); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32RemU(): this { return this.op(0x70); }
  i32And(): this { return this.op(0x71); }
  i32Or(): this { return this.op(0x72); }
  i32DivU(): this { return this.op(0x6e); }

  // ---- f32 ----
  f32Eq(): this { return this.op(0x5b); }
  f32Lt(): this { return this.op(0x5d); }
  f32Gt(): this { return this.op(0x5e); }
  f32Abs(): this { return this.op(0x8b); }
  f32Neg(): this { return this.op(0x8c); }
  f32Sqrt(): this { return this.op(0x91); }
  f32Add(): this { return this.op(0x92); }
  f32Sub(): this { return this.op(0x93); }
  f32Mul(): this { return this.op(0x94); }
  f32Div(): this { return this.op(0x95); }
  f32Min(): this { return this.op(0x96); }
  f32Max(): this { return this.op(0x97); }
  f32FromF64(): this { return this.op(0xb6); }

  // ---- f64 ----
  f64Sqrt(): this { return this.op(0x9f); }
  f64Add(): this { return this.op(0xa0); }
  f64Sub(): this { return this.op(0xa1); }
  f64Mul(): this { return this.op(0xa2); }
  f64Div(): this { return this.op(0xa3); }
  f64FromF32(): this { return this.op(0xbb); }
  f64Max(): this { return this.op(0xa5); }
  f32ConvertI32U(): this { return this.op(0xb3); }

  // ---- f32x4 ----
  splat(): this { return this.simd(0x13); }
  lane(i: number): this { this.simd(0x1f); this.code.push(i); return this; }
  v128Const(v: number): this {
    this.simd(0x0c);
    f32View.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.code.push(...f32Bytes);
    return this;
  }
  vGt(): this { return this.simd(0x44); }
  vLt(): this { return this.simd(0x43); }
  vAnd(): this { return this.simd(0x4e); }
  vBitselect(): this { return this.simd(0x52); }
  vAbs(): this { return this.simd(0xe0); }
  vNeg(): this { return this.simd(0xe1); }
  vSqrt(): this { return this.simd(0xe3); }
  vAdd(): this { return this.simd(0xe4); }
  vSub(): this { return this.simd(0xe5); }
  vMul(): this { return this.simd(0xe6); }
  vDiv(): this { return this.simd(0xe7); }
  vMin(): this { return this.simd(0xe8); }
  vMax(): this { return this.simd(0xe9); }
  /** Four f32 lanes picked from two vectors (0-3: the first, 4-7: the second). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0d);
    for (const l of lanes) for (let b = 0; b < 4; b++) this.code.push(l * 4 + b);
    return this;
  }

  // ---- f64x2 ----
  f64x2Splat(): this { return this.simd(0x14); }
  f64x2Lane(i: number): this { this.simd(0x21); this.code.push(i); return this; }
  /** The low two f32 lanes as f64. */
  f64x2PromoteLow(): this { return this.simd(0x5f); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Sub(): this { return this.simd(0xf1); }
  f64x2Mul(): this { return this.simd(0xf2); }
  /** pmax(a, b) = a < b ? b : a */
  vPmax(): this { return this.simd(0xeb); }

  /**
   * A counted loop: `i` runs from `from` to `to` (exclusive) by `step`; both bounds are i32
   * constants or locals. The body is emitted by `body`; the loop is skipped when empty.
   */
  for(i: Local, from: number | Local, to: number | Local, step: number, body: () => void): this {
    const push = (v: number | Local): this => (typeof v === 'number' ? this.i32(v) : this.get(v));
    push(from).set(i);
    this.block().get(i);
    push(to);
    this.i32GeS().brIf(0).loop();
    body();
    this.get(i).i32(step).i32Add().tee(i);
    push(to);
    this.i32LtS().brIf(0).end();
    return this.end();
  }

  /** The encoded body: local declarations, code, end. */
  encode(): number[] {
    const out: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [n, t] of runs) {
      uleb(out, n);
      out.push(VALTYPE[t]);
    }
    append(out, this.code);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return [...sized, ...out];
  }
}

/** Appends `items` to `into` (a spread would overflow the stack on a large model's code). */
function ulebLength(v: number): number {
  const out: number[] = [];
  uleb(out, v);
  return out.length;
}

function append(into: number[], items: readonly number[]): void {
  for (const b of items) into.push(b);
}

export interface ImportedFunction {
  readonly module: string;
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** Assembles imports (one memory, then functions), function bodies and their exports. */
export class ModuleWriter {
  private readonly types: string[] = [];
  private readonly imports: ImportedFunction[] = [];
  private readonly bodies: { body: Body; type: number; exportAs?: string }[] = [];

  constructor(private readonly shared: boolean) {}

  private typeOf(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}>${results.join(',')}`;
    let i = this.types.indexOf(key);
    if (i < 0) i = this.types.push(key) - 1;
    return i;
  }

  /** Imports a function; returns its index. Call before adding any body. */
  importFunction(f: ImportedFunction): number {
    if (this.bodies.length > 0) throw new Error('imports must precede function bodies');
    this.typeOf(f.params, f.results);
    return this.imports.push(f) - 1;
  }

  /** Adds a function; returns its index (imports come first). */
  add(body: Body, exportAs?: string): number {
    this.bodies.push({ body, type: this.typeOf(body.params, body.results), exportAs });
    return this.imports.length + this.bodies.length - 1;
  }

  /** The module, importing a memory of exactly `pages` 64 KiB pages. */
  bytes(pages: number): Uint8Array<ArrayBuffer> {
    return this.module(pages, pages).bytes;
  }

  /**
   * The module, importing a memory of `minPages` to `maxPages` pages; `sharedFlagAt` is the byte
   * of the import's limits flag (0x03 shared, 0x01 not).
   */
  module(minPages: number, maxPages: number): { bytes: Uint8Array<ArrayBuffer>; sharedFlagAt: number } {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]): void => {
      out.push(id);
      uleb(out, content.length);
      append(out, content);
    };
    const name = (s: string, into: number[]): void => {
      const b = new TextEncoder().encode(s);
      uleb(into, b.length);
      into.push(...b);
    };
    const types: number[] = [];
    uleb(types, this.types.length);
    for (const key of this.types) {
      const [p, r] = key.split('>').map((s) => (s === '' ? [] : (s.split(',') as ValType[])));
      types.push(0x60);
      uleb(types, p!.length);
      for (const t of p!) types.push(VALTYPE[t]);
      uleb(types, r!.length);
      for (const t of r!) types.push(VALTYPE[t]);
    }
    section(1, types);
    const imports: number[] = [];
    uleb(imports, this.imports.length + 1);
    name('env', imports);
    name('memory', imports);
    imports.push(0x02);
    const flagInImports = imports.length;
    imports.push(this.shared ? 0x03 : 0x01);
    uleb(imports, minPages);
    uleb(imports, maxPages);
    for (const f of this.imports) {
      name(f.module, imports);
      name(f.name, imports);
      imports.push(0x00);
      uleb(imports, this.typeOf(f.params, f.results));
    }
    const importsStart = out.length + 1 + ulebLength(imports.length);
    section(2, imports);
    const funcs: number[] = [];
    uleb(funcs, this.bodies.length);
    for (const b of this.bodies) uleb(funcs, b.type);
    section(3, funcs);
    const exported = this.bodies.map((b, i) => ({ name: b.exportAs, index: this.imports.length + i })).filter((e) => e.name !== undefined);
    const exports: number[] = [];
    uleb(exports, exported.length);
    for (const e of exported) {
      name(e.name!, exports);
      exports.push(0x00);
      uleb(exports, e.index);
    }
    section(7, exports);
    const code: number[] = [];
    uleb(code, this.bodies.length);
    for (const b of this.bodies) append(code, b.body.encode());
    section(10, code);
    return { bytes: Uint8Array.from(out), sharedFlagAt: importsStart + flagInImports };
  }
}
