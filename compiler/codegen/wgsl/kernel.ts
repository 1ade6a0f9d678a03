// What a kernel generator returns: WGSL text with shapes folded in, its storage bindings in
// order (group 0, binding i) and the workgroup grid to dispatch.

export type Access = 'read' | 'read_write';

export interface KernelBinding {
  /** The WGSL variable name, also how callers match buffers to bindings. */
  readonly name: string;
  readonly access: Access;
}

export interface WgslKernel {
  readonly label: string;
  readonly wgsl: string;
  readonly bindings: readonly KernelBinding[];
  readonly workgroups: readonly [number, number, number];
}

/** Workgroup size of flat per-element kernels. */
export const FLAT_WORKGROUP = 64;

/** Most workgroups per grid dimension (WebGPU's default and minimum limit). */
export const MAX_GROUPS_PER_DIM = 65535;

/** A 2D grid covering `count` flat invocations in groups of `size`: [x, y, 1]. */
export function flatGrid(count: number, size = FLAT_WORKGROUP): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / size));
  if (groups <= MAX_GROUPS_PER_DIM) return [groups, 1, 1];
  return [MAX_GROUPS_PER_DIM, Math.ceil(groups / MAX_GROUPS_PER_DIM), 1];
}

/** WGSL for the flat index of an invocation in a flatGrid of `groupsX` groups. */
export function flatIndexExpr(groupsX: number, size = FLAT_WORKGROUP): string {
  return groupsX === 1 ? 'gid.x' : `gid.x + gid.y * ${groupsX * size}u`;
}

export function bindingDecls(bindings: readonly KernelBinding[]): string {
  return bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<f32>;`)
    .join('\n');
}

/** A WGSL f32 literal for any finite or infinite JS number. */
export function f32Lit(v: number): string {
  if (Number.isNaN(v)) return 'bitcast<f32>(0x7fc00000u)';
  if (v === Infinity) return 'bitcast<f32>(0x7f800000u)';
  if (v === -Infinity) return 'bitcast<f32>(0xff800000u)';
  const f = Math.fround(v);
  if (f !== 0 && Math.abs(f) < 1.1754943508222875e-38) return `bitcast<f32>(${new Uint32Array(new Float32Array([f]).buffer)[0]}u)`;
  let s = f.toPrecision(9);
  if (!/[.e]/.test(s)) s += '.0';
  return `f32(${s})`;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/** WGSL lines declaring `prefix0..` as the coordinates of flat index `idx` in `shape`. */
export function unflatten(idx: string, shape: readonly number[], prefix: string): string {
  const st = stridesOf(shape);
  return shape
    .map((d, a) => `  let ${prefix}${a} = (${idx} / ${st[a]}u) % ${d}u;`)
    .join('\n');
}

/** A WGSL expression for the flat index of coordinates `coords` in `shape`. */
export function flatten(coords: readonly string[], shape: readonly number[]): string {
  const st = stridesOf(shape);
  const terms = coords.map((c, a) => (st[a] === 1 ? `(${c})` : `(${c}) * ${st[a]}u`));
  return terms.length === 0 ? '0u' : terms.join(' + ');
}
