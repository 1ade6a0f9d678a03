// The named tensors of a model on the device (weights, optimizer state, feeds): one buffer each,
// shared by every program that binds them (training step, evaluation), written from and read back
// to the host by name.

import { elementCount } from '../tensor.ts';
import { stageReads } from './read-back.ts';

/** A program or tensor set that does not match what it is given (wrong sizes, unknown names). */
export class GpuRunError extends Error {
  override readonly name = 'GpuRunError';
}

const USAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export class DeviceTensors {
  private readonly entries = new Map<string, { readonly buffer: GPUBuffer; readonly shape: readonly number[] }>();

  constructor(private readonly device: GPUDevice, tensors: Iterable<readonly [string, readonly number[]]>) {
    for (const [name, shape] of tensors) {
      if (this.entries.has(name)) continue;
      this.entries.set(name, { buffer: device.createBuffer({ size: Math.max(4, elementCount(shape) * 4), usage: USAGE(), label: name }), shape });
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The device buffer of `name`. */
  buffer(name: string): GPUBuffer {
    return this.entry(name).buffer;
  }

  /** Values of one tensor in bytes (what an update copies). */
  bytes(name: string): number {
    return elementCount(this.entry(name).shape) * 4;
  }

  /** Queues an upload of `data`, which must have exactly the tensor's size. */
  write(name: string, data: Float32Array): void {
    const { buffer, shape } = this.entry(name);
    if (data.length !== elementCount(shape)) throw new GpuRunError(`'${name}' has ${data.length} values, expected ${elementCount(shape)} for shape [${shape.join(', ')}]`);
    this.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
  }

  /** Reads tensors back (one submission, after everything queued before it). */
  read(names: readonly string[]): Promise<Map<string, Float32Array>> {
    const encoder = this.device.createCommandEncoder();
    const done = stageReads(this.device, encoder, names.map((name) => ({ name, buffer: this.buffer(name), bytes: this.bytes(name) })));
    this.device.queue.submit([encoder.finish()]);
    return done();
  }

  destroy(): void {
    for (const e of this.entries.values()) e.buffer.destroy();
  }

  private entry(name: string): { readonly buffer: GPUBuffer; readonly shape: readonly number[] } {
    const e = this.entries.get(name);
    if (e === undefined) throw new GpuRunError(`no tensor '${name}' on the device (it has ${[...this.entries.keys()].join(', ') || 'none'})`);
    return e;
  }
}
