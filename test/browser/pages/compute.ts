// Page module: asks the browser for a WebGPU adapter and device, runs two compute shaders (a vector
// add and a 17x13 matrix product) and returns the numbers with the adapter's description and
// timings. The test compares the numbers with a CPU computation in Node.

export interface ComputeArgs {
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** Row-major A [m, k] and B [k, n]. */
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

export interface ComputeReport {
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly description: string; readonly isFallbackAdapter: boolean };
  readonly features: readonly string[];
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly sum: readonly number[];
  readonly product: readonly number[];
  readonly ms: { readonly device: number; readonly add: number; readonly matmul: number };
}

const ADD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&out)) { out[id.x] = x[id.x] + y[id.x]; }
}`;

const matmul = (m: number, k: number, n: number) => /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let row = id.y;
  let col = id.x;
  if (row >= ${m}u || col >= ${n}u) { return; }
  var acc = 0.0;
  for (var i = 0u; i < ${k}u; i++) { acc += a[row * ${k}u + i] * b[i * ${n}u + col]; }
  out[row * ${n}u + col] = acc;
}`;

function input(device: GPUDevice, values: readonly number[]): GPUBuffer {
  const buffer = device.createBuffer({ size: values.length * 4, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
  new Float32Array(buffer.getMappedRange()).set(values);
  buffer.unmap();
  return buffer;
}

/** Runs one kernel over three bindings and reads the output back. */
async function run(device: GPUDevice, code: string, inputs: readonly (readonly number[])[], outLength: number, groups: [number, number]): Promise<number[]> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) throw new Error(`WGSL: ${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join('; ')}`);
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const out = device.createBuffer({ size: outLength * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: outLength * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const buffers = [...inputs.map((v) => input(device, v)), out];
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(groups[0], groups[1]);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, outLength * 4);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const result = Array.from(new Float32Array(read.getMappedRange()));
  read.unmap();
  for (const b of [...buffers, read]) b.destroy();
  return result;
}

export default async function compute(args: ComputeArgs): Promise<ComputeReport> {
  if (!('gpu' in navigator)) throw new Error(`navigator.gpu is missing (secure context: ${isSecureContext}); is --enable-unsafe-webgpu set?`);
  const t0 = performance.now();
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter in this browser');
  const device = await adapter.requestDevice();
  const t1 = performance.now();
  const sum = await run(device, ADD, [args.x, args.y], args.x.length, [Math.ceil(args.x.length / 64), 1]);
  const t2 = performance.now();
  const product = await run(device, matmul(args.m, args.k, args.n), [args.a, args.b], args.m * args.n, [Math.ceil(args.n / 8), Math.ceil(args.m / 8)]);
  const t3 = performance.now();
  device.destroy();
  const { vendor, architecture, description, isFallbackAdapter } = adapter.info;
  return {
    adapter: { vendor, architecture, description, isFallbackAdapter },
    features: [...adapter.features].sort(),
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    sum,
    product,
    ms: { device: t1 - t0, add: t2 - t1, matmul: t3 - t2 },
  };
}
