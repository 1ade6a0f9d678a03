// Compute pipelines created asynchronously and cached by a hash of their WGSL text, so a model
// that emits the same kernel twice (same shapes folded in) compiles it once. Every module's
// compilation messages are checked: an error or a warning is a bug in code generation.

/** 53-bit string hash (cyrb53): stable across runs, no crypto API needed in the browser. */
export function hashWgsl(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

export class WgslCompileError extends Error {
  override readonly name = 'WgslCompileError';
}

/** Messages Dawn reported for a module, formatted `line:col: type: message`. */
export async function compilationMessages(module: GPUShaderModule): Promise<string[]> {
  const info = await module.getCompilationInfo();
  return info.messages.map((m) => `${m.lineNum}:${m.linePos}: ${m.type}: ${m.message}`);
}

export class PipelineCache {
  private readonly byHash = new Map<string, { readonly text: string; readonly pipeline: Promise<GPUComputePipeline> }>();
  /** How many modules were actually compiled (cache misses). */
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.byHash.size;
  }

  /**
   * The pipeline for `wgsl` (entry point `main`), compiling it on first request. Its layout is
   * explicit (binding i: read-only or writable storage as listed), so a binding the code happens
   * not to read is still part of the layout.
   */
  get(wgsl: string, label = 'cnnc kernel', bindings: readonly { readonly access: 'read' | 'read_write' }[] = []): Promise<GPUComputePipeline> {
    const key = hashWgsl(wgsl);
    const hit = this.byHash.get(key);
    if (hit !== undefined && hit.text === wgsl) return hit.pipeline;
    const pipeline = this.compile(wgsl, `${label} #${key}`, bindings);
    // On a (practically impossible) hash collision the newer text simply replaces the entry.
    this.byHash.set(key, { text: wgsl, pipeline });
    return pipeline;
  }

  private async compile(wgsl: string, label: string, bindings: readonly { readonly access: 'read' | 'read_write' }[]): Promise<GPUComputePipeline> {
    this.compiled++;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: wgsl, label });
    const messages = await compilationMessages(module);
    const moduleError = await this.device.popErrorScope();
    if (messages.length > 0 || moduleError !== null) {
      const numbered = wgsl.split('\n').map((l, i) => `${String(i + 1).padStart(4)} ${l}`).join('\n');
      throw new WgslCompileError(`${label}: ${[...messages, moduleError?.message ?? ''].filter((m) => m !== '').join('\n')}\n${numbered}`);
    }
    try {
      const layout: GPUPipelineLayout | 'auto' = bindings.length === 0 ? 'auto' : this.device.createPipelineLayout({
        bindGroupLayouts: [
          this.device.createBindGroupLayout({
            entries: bindings.map((b, binding) => ({
              binding,
              visibility: GPUShaderStage.COMPUTE,
              buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
            })),
          }),
        ],
      });
      return await this.device.createComputePipelineAsync({ layout, label, compute: { module, entryPoint: 'main' } });
    } catch (error) {
      throw new WgslCompileError(`${label}: pipeline creation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
