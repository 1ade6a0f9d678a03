// The device's practical GEMM rate, the yardstick for "conv fraction of GEMM peak": a square fp32
// matrix product, the faster of two kernels: a hand-written vec4 kernel with a 4x4 register tile
// per invocation (the fastest simple form on software devices per the shared notes), and the
// compiler's own GEMM generator with the device's tiling. The `gemm` section also times that
// generator with one output per invocation, which is what register tiling is measured against.

import { bindingDecls, type KernelBinding } from '../compiler/codegen/wgsl/kernel.ts';
import { matmulGemm, tiledMain, tilingFor, type Tiling } from '../compiler/codegen/wgsl/tiled.ts';
import type { DeviceCaps } from '../runtime/webgpu/device.ts';

/** A GEMM kernel for C = A * B, all n x n row-major, bound as A, B, C at bindings 0, 1, 2. */
export interface GemmKernel {
  readonly label: string;
  readonly n: number;
  readonly wgsl: string;
  readonly workgroups: readonly [number, number, number];
}

export interface GemmPeak {
  /** The faster kernel's rate: the yardstick. */
  readonly gflopPerS: number;
  readonly n: number;
  /** The kernel that reached it. */
  readonly kernel: string;
  readonly handWrittenGflopPerS: number;
  /** The compiler's kernel at the device's tiling, and its label. */
  readonly cnncGflopPerS: number;
  readonly cnncKernel: string;
}

type Caps = Pick<DeviceCaps, 'preferRegisterTiles' | 'maxComputeInvocationsPerWorkgroup'>;

/** One output per invocation: the baseline register tiling is measured against. */
export const NAIVE_TILING: Tiling = { tm: 1, tn: 1, wgX: 8, wgY: 8 };

/** The hand-written kernel: each invocation writes a 4x4 tile of C with vec4 loads. */
export function handWrittenGemm(n: number): GemmKernel {
  if (!Number.isInteger(n) || n < 32 || n % 32 !== 0) throw new Error(`GEMM size must be a positive multiple of 32, got ${n}`);
  const rows = [0, 1, 2, 3];
  const wgsl = `
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
const NV: u32 = ${n / 4}u;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y * 4u;
${rows.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join('\n')}
  for (var k = 0u; k < NV; k = k + 1u) {
    let b0 = b[(4u * k + 0u) * NV + col];
    let b1 = b[(4u * k + 1u) * NV + col];
    let b2 = b[(4u * k + 2u) * NV + col];
    let b3 = b[(4u * k + 3u) * NV + col];
${rows.map((r) => `    let a${r} = a[(row + ${r}u) * NV + k];\n    acc${r} = acc${r} + a${r}.x * b0 + a${r}.y * b1 + a${r}.z * b2 + a${r}.w * b3;`).join('\n')}
  }
${rows.map((r) => `  c[(row + ${r}u) * NV + col] = acc${r};`).join('\n')}
}
`;
  return { label: 'hand-written vec4 4x4', n, wgsl, workgroups: [n / 32, n / 32, 1] };
}

/** The compiler's matmul kernel at `tiling` (the device's own by default in `measureGemmPeak`). */
export function cnncGemm(n: number, tiling: Tiling): GemmKernel {
  if (!Number.isInteger(n) || n < 1) throw new Error(`GEMM size must be a positive integer, got ${n}`);
  const bindings: KernelBinding[] = [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'out', access: 'read_write' }];
  const { main, workgroups } = tiledMain(matmulGemm('a', 'b', [n, n], [n, n], false, false), tiling);
  const wgsl = `${bindingDecls(bindings)}\n\nfn store(i: u32, v: f32) { out[i] = v; }\n\n${main}\n`;
  return { label: `cnnc ${tiling.tm}x${tiling.tn}${tiling.shared === undefined ? '' : ' workgroup-memory'}`, n, wgsl, workgroups };
}

export interface GemmRun {
  /** Runs `count` products in one submission and waits for them. */
  run(count: number): Promise<void>;
  /** Reads C back (for checking the kernel). */
  read(): Promise<Float32Array>;
  destroy(): void;
}

/** Uploads A and B and builds the pipeline; the caller times `run`. */
export function prepareGemm(device: GPUDevice, kernel: GemmKernel, a: Float32Array<ArrayBuffer>, b: Float32Array<ArrayBuffer>): GemmRun {
  const { n } = kernel;
  if (a.length !== n * n || b.length !== n * n) throw new Error(`GEMM inputs must hold ${n * n} values, got ${a.length} and ${b.length}`);
  const module = device.createShaderModule({ code: kernel.wgsl });
  const pipeline = device.createComputePipeline({ layout: 'auto', label: kernel.label, compute: { module, entryPoint: 'main' } });
  const bytes = n * n * 4;
  const storage = (data?: Float32Array<ArrayBuffer>): GPUBuffer => {
    const buffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    if (data !== undefined) device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const [bufA, bufB, bufC] = [storage(a), storage(b), storage()];
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    async run(count) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      for (let i = 0; i < count; i++) pass.dispatchWorkgroups(...kernel.workgroups);
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async read() {
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(bufC, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return out;
    },
    destroy() {
      for (const buffer of [bufA, bufB, bufC]) buffer.destroy();
    },
  };
}

/** GFLOP/s: the best of a few timed pairs of products, after one untimed run (pipeline, first touch). */
export async function measureGemm(device: GPUDevice, kernel: GemmKernel, runs = 4): Promise<number> {
  const { n } = kernel;
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 97) / 97 - 0.5);
  const gemm = prepareGemm(device, kernel, data, data);
  try {
    await gemm.run(1);
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await gemm.run(2);
      best = Math.min(best, (performance.now() - start) / 2);
    }
    return (2 * n * n * n) / (best / 1000) / 1e9;
  } finally {
    gemm.destroy();
  }
}

/** The yardstick: the faster of the hand-written kernel and the compiler's at the device's tiling. */
export async function measureGemmPeak(device: GPUDevice, caps: Caps, n = 256, runs = 4): Promise<GemmPeak> {
  const [hand, cnnc] = [handWrittenGemm(n), cnncGemm(n, tilingFor(caps))];
  const handWrittenGflopPerS = await measureGemm(device, hand, runs);
  const cnncGflopPerS = await measureGemm(device, cnnc, runs);
  const cnncFaster = cnncGflopPerS > handWrittenGflopPerS;
  return {
    gflopPerS: Math.max(handWrittenGflopPerS, cnncGflopPerS),
    n,
    kernel: cnncFaster ? cnnc.label : hand.label,
    handWrittenGflopPerS,
    cnncGflopPerS,
    cnncKernel: cnnc.label,
  };
}

const devicePeaks = new WeakMap<GPUDevice, Promise<GemmPeak>>();

/** `measureGemmPeak` at n = 256, once per device: shared by the `gemm` section and every training line. */
export function devicePeak(device: GPUDevice, caps: Caps): Promise<GemmPeak> {
  let peak = devicePeaks.get(device);
  if (peak === undefined) {
    peak = measureGemmPeak(device, caps);
    devicePeaks.set(device, peak);
  }
  return peak;
}

/**
 * The `gemm` section: the yardstick's two kernels as `peak` measured them, and how much the
 * device's register tiling gains over one output per invocation of the same generator.
 */
export async function gemmLine(device: GPUDevice, deviceName: string, peak: GemmPeak): Promise<object> {
  const naive = await measureGemm(device, cnncGemm(peak.n, NAIVE_TILING));
  const round = (x: number): number => Number(x.toPrecision(4));
  return {
    section: 'gemm',
    device: deviceName,
    n: peak.n,
    cnnc_tiling: peak.cnncKernel,
    cnnc_gflop_per_s: round(peak.cnncGflopPerS),
    cnnc_naive_gflop_per_s: round(naive),
    register_tiling_speedup: round(peak.cnncGflopPerS / naive),
    hand_written_gflop_per_s: round(peak.handWrittenGflopPerS),
    peak_gflop_per_s: round(peak.gflopPerS),
  };
}
