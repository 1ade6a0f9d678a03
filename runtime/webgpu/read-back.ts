// Reading device buffers back to the host: every copy of one submission goes into one staging
// buffer, mapped once, then sliced per tensor.

/** A range of a device buffer to read, under the name it comes back as. */
export interface ReadRequest {
  readonly name: string;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

/**
 * Encodes the copies of `requests` into one staging buffer; the returned function, called once
 * `encoder` has been submitted, waits for the device and hands back a fresh array per name.
 */
export function stageReads(device: GPUDevice, encoder: GPUCommandEncoder, requests: readonly ReadRequest[]): () => Promise<Map<string, Float32Array>> {
  let total = 0;
  const at = requests.map((r) => {
    const offset = total;
    total += r.bytes;
    return offset;
  });
  const staging = device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  requests.forEach((r, i) => encoder.copyBufferToBuffer(r.buffer, 0, staging, at[i]!, r.bytes));
  return async () => {
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return new Map(requests.map((r, i) => [r.name, all.slice(at[i]! / 4, (at[i]! + r.bytes) / 4)]));
  };
}
