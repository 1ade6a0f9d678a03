// The device's practical GEMM rate, the yardstick for "conv fraction of GEMM peak": a square fp32
// matrix product with a 4x4 register tile per invocation (the fastest simple form on software
// devices per the shared notes; workgroup-memory tiling with barriers is slower there).

export interface GemmPeak {
  readonly gflopPerS: number;
  readonly n: number;
  readonly runs: number;
}

/** WGSL for C = A * B, all N x N row-major; each invocation writes a 4x4 tile of C. */
export function gemmShader(n: number): string {
  if (!Number.isInteger(n) || n < 32 || n % 32 !== 0) throw new Error(`GEMM size must be a positive multiple of 32, got ${n}`);
  const rows = [0, 1, 2, 3];
  return `
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
}

export interface GemmRun {
  /** Runs `count` products in one submission and waits for them. */
  run(count: number): Promise<void>;
  /** Reads C back (for checking the kernel). */
  read(): Promise<Float32Array>;
  destroy(): void;
}

/** Uploads A and B and builds the pipeline; the caller times `run`. */
export function prepareGemm(device: GPUDevice, n: number, a: Float32Array<ArrayBuffer>, b: Float32Array<ArrayBuffer>): GemmRun {
  if (a.length !== n * n || b.length !== n * n) throw new Error(`GEMM inputs must hold ${n * n} values, got ${a.length} and ${b.length}`);
  const module = device.createShaderModule({ code: gemmShader(n) });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
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
      for (let i = 0; i < count; i++) pass.dispatchWorkgroups(n / 32, n / 32);
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

/** Best of a few timed batches of products, after one untimed run (pipeline creation, first touch). */
export async function measureGemmPeak(device: GPUDevice, n = 256, runs = 4): Promise<GemmPeak> {
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 97) / 97 - 0.5);
  const gemm = prepareGemm(device, n, data, data);
  try {
    await gemm.run(1);
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await gemm.run(2);
      best = Math.min(best, (performance.now() - start) / 2);
    }
    return { gflopPerS: (2 * n * n * n) / (best / 1000) / 1e9, n, runs };
  } finally {
    gemm.destroy();
  }
}
