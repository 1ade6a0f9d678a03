// Page side of the no-WebGPU bundle test: says what the page has (WebGPU adapter, cross-origin
// isolation), creates the generated model with no device (so it picks the wasm back end), loads
// the weights Node sent, runs training steps on named feeds and returns the losses and the line
// the model printed at start.

import type { BundledModel } from '../../../runtime/bundle/index.ts';
import { trainSteps, type CreateModel, type StepArgs } from './train-steps.ts';

export type WasmStepArgs = StepArgs;

export interface WasmStepReport {
  readonly losses: readonly number[];
  /** Whether the page had navigator.gpu and whether it gave an adapter. */
  readonly webgpu: { readonly api: boolean; readonly adapter: boolean };
  readonly crossOriginIsolated: boolean;
  readonly backend: BundledModel['backend'];
  /** What the model printed at start. */
  readonly printed: readonly string[];
}

export async function runWasmSteps(createModel: CreateModel, args: WasmStepArgs): Promise<WasmStepReport> {
  const api = typeof navigator.gpu !== 'undefined';
  const adapter = api ? (await navigator.gpu.requestAdapter()) !== null : false;
  const printed: string[] = [];
  const info = console.info;
  console.info = (...line: unknown[]) => {
    printed.push(line.join(' '));
    info(...line);
  };
  let model: BundledModel;
  try {
    model = await createModel();
  } finally {
    console.info = info;
  }
  try {
    const losses = await trainSteps(model, args);
    return { losses, webgpu: { api, adapter }, crossOriginIsolated: globalThis.crossOriginIsolated, backend: model.backend, printed };
  } finally {
    model.dispose();
  }
}
