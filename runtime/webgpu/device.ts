// Acquires a WebGPU device in Node (Dawn through the `webgpu` package) or in the browser
// (navigator.gpu), at core or compatibility feature level, with the limits cnnc's kernels need.
// Node's modules are imported only on the Node path, by computed names that bundlers for the
// browser leave alone, so this file also loads in a page.

import { UserError } from '../../grammar/user-error.ts';
import { nodeImport } from '../node-import.ts';

export type DawnBackend = 'vulkan' | 'opengles';
export type FeatureLevel = 'core' | 'compatibility';

/** The device limits that decide kernel shapes and fusion (what code generation may assume). */
export interface DeviceCaps {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeWorkgroupStorageSize: number;
  /** Software devices punish workgroup barriers: prefer register tiles without shared memory. */
  readonly preferRegisterTiles: boolean;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly caps: DeviceCaps;
  readonly featureLevel: FeatureLevel;
  /** e.g. `SwiftShader Device (Subzero) (vulkan, core)`. */
  readonly name: string;
  /** Destroys the device and drops Dawn's instance so Node can exit. */
  release(): void;
}

export interface AcquireOptions {
  /** Node only; default: env CNNC_WEBGPU_BACKEND, else vulkan then opengles. */
  readonly backend?: DawnBackend;
}

export class NoWebGpuError extends UserError {
  override readonly name = 'NoWebGpuError';
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function backendsToTry(options: AcquireOptions): DawnBackend[] {
  const chosen = options.backend ?? process.env.CNNC_WEBGPU_BACKEND;
  if (chosen === undefined || chosen === '') return ['vulkan', 'opengles'];
  if (chosen !== 'vulkan' && chosen !== 'opengles') {
    throw new NoWebGpuError(`CNNC_WEBGPU_BACKEND must be 'vulkan' or 'opengles', got '${chosen}'`);
  }
  return [chosen];
}

/** Fills in the environment Dawn's drivers read, keeping what the caller set. */
async function prepareNodeEnvironment(backend: DawnBackend): Promise<void> {
  const [{ mkdirSync }, { tmpdir }, { join }] = await Promise.all([
    nodeImport<typeof import('node:fs')>('node:fs'),
    nodeImport<typeof import('node:os')>('node:os'),
    nodeImport<typeof import('node:path')>('node:path'),
  ]);
  if (process.env.XDG_RUNTIME_DIR === undefined) {
    const dir = join(tmpdir(), `cnnc-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  if (backend === 'vulkan') process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  else process.env.EGL_PLATFORM ??= 'surfaceless';
}

const isBrowser = (): boolean => typeof (globalThis as { navigator?: Navigator }).navigator?.gpu !== 'undefined' && typeof process === 'undefined';

/** The limits kernels care about: asked for at the adapter's maximum, then read off the device. */
function kernelLimits(l: GPUSupportedLimits): Omit<DeviceCaps, 'preferRegisterTiles'> {
  return {
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
  };
}

function capsOf(device: GPUDevice, adapter: GPUAdapter): DeviceCaps {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const software = /swiftshader|llvmpipe|lavapipe|software|cpu/.test(text);
  return { ...kernelLimits(device.limits), preferRegisterTiles: software };
}

async function fromGpu(gpu: GPU, label: string, drop: () => void): Promise<GpuContext | string> {
  let featureLevel: FeatureLevel = 'core';
  let adapter: GPUAdapter | null = await gpu.requestAdapter();
  if (adapter === null) {
    featureLevel = 'compatibility';
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
  }
  if (adapter === null) return `${label}: no adapter`;
  // Dawn marks compatibility-only adapters by the absence of core-features-and-limits.
  if (!adapter.features.has('core-features-and-limits')) featureLevel = 'compatibility';
  const device = await adapter.requestDevice({ requiredLimits: { ...kernelLimits(adapter.limits) } });
  const info = adapter.info;
  const name = `${info.description || info.device || info.vendor || 'unknown adapter'} (${label}, ${featureLevel})`;
  let released = false;
  return {
    device,
    adapter,
    caps: capsOf(device, adapter),
    featureLevel,
    name,
    release() {
      if (released) return;
      released = true;
      device.destroy();
      drop();
    },
  };
}

/**
 * A device for cnnc's kernels, or a NoWebGpuError saying what was tried and how to install a
 * software device.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<GpuContext> {
  if (isBrowser()) {
    const got = await fromGpu(navigator.gpu, 'browser', () => undefined);
    if (typeof got === 'string') throw new NoWebGpuError(`navigator.gpu gave no adapter`);
    return got;
  }
  const { create, globals } = await nodeImport<typeof import('webgpu')>('webgpu');
  Object.assign(globalThis, globals);
  const failures: string[] = [];
  for (const backend of backendsToTry(options)) {
    await prepareNodeEnvironment(backend);
    let gpu: GPU | undefined = create([`backend=${backend}`]);
    try {
      const got = await fromGpu(gpu, backend, () => {
        gpu = undefined;
      });
      if (typeof got !== 'string') return got;
      failures.push(got);
    } catch (error) {
      failures.push(`${backend}: ${error instanceof Error ? error.message : String(error)}`);
    }
    gpu = undefined;
  }
  throw new NoWebGpuError(
    `no WebGPU adapter (${failures.join('; ')}). Install a software device: ` +
      `apt-get install -y chromium libvulkan1 (SwiftShader, CNNC_WEBGPU_BACKEND=vulkan) or ` +
      `apt-get install -y libegl1 libegl-mesa0 libgles2 (llvmpipe, CNNC_WEBGPU_BACKEND=opengles)`,
  );
}
