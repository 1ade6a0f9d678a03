// Counts compute dispatches and queue submissions made through Dawn's JS objects, whoever makes
// them (tfjs or cnnc), by wrapping the two prototype methods once. Per-dispatch overhead dominates
// on software devices, so dispatches per training step explain most of a speed ratio.

export interface GpuCallCounts {
  dispatches: number;
  submits: number;
}

const counts: GpuCallCounts = { dispatches: 0, submits: 0 };
let installed = false;

/** Wraps dispatchWorkgroups/dispatchWorkgroupsIndirect and queue.submit; call after Dawn's globals are installed. */
export function installDispatchCounter(): void {
  if (installed) return;
  const pass = GPUComputePassEncoder.prototype;
  const dispatch = pass.dispatchWorkgroups;
  const dispatchIndirect = pass.dispatchWorkgroupsIndirect;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<typeof dispatch>) {
    counts.dispatches++;
    return dispatch.apply(this, args);
  };
  pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, ...args: Parameters<typeof dispatchIndirect>) {
    counts.dispatches++;
    return dispatchIndirect.apply(this, args);
  };
  const queue = GPUQueue.prototype;
  const submit = queue.submit;
  queue.submit = function (this: GPUQueue, ...args: Parameters<typeof submit>) {
    counts.submits++;
    return submit.apply(this, args);
  };
  installed = true;
}

/** Current totals since installation (a copy). */
export function gpuCallCounts(): GpuCallCounts {
  return { ...counts };
}

/** Calls made between two snapshots, divided by the number of steps between them. */
export function perStep(before: GpuCallCounts, after: GpuCallCounts, steps: number): GpuCallCounts {
  return {
    dispatches: (after.dispatches - before.dispatches) / steps,
    submits: (after.submits - before.submits) / steps,
  };
}
