// The TensorFlow.js 4.22 peer: builds a BenchModel with tf.layers on the webgpu backend, running
// on the bench's own Dawn device, and trains it with SGD on a fixed random batch.

import type * as TF from '@tensorflow/tfjs';
import type { WebGPUBackend as WebGPUBackendClass } from '@tensorflow/tfjs-backend-webgpu';
import type { BenchDevice } from './device.ts';
import { gpuCallCounts, installDispatchCounter, perStep } from './dispatch-counter.ts';
import type { BenchLayer, BenchModel } from './models.ts';
import { randomBatch, type Batch } from './random-batch.ts';

type Tf = typeof TF;

export interface StepPlan {
  /** Untimed steps after the first one (the first is timed on its own as time to first step). */
  readonly warmupSteps: number;
  readonly timedSteps: number;
}

export interface TrainingFigures {
  readonly imagesPerS: number;
  /** From building the model (pipeline creation included) to the first step's loss on the host. */
  readonly firstStepMs: number;
  readonly steadyStepMs: number;
  readonly dispatchesPerStep: number;
  readonly submitsPerStep: number;
  /**
   * tfjs: bytes of GPU buffers the webgpu backend created for this model (its buffer pool never
   * shrinks while training, and each model gets a fresh backend, so this is the high-water mark
   * of its storage, uniform and staging buffers).
   */
  readonly peakBytes: number;
  readonly params: number;
  readonly firstLoss: number;
  readonly lastLoss: number;
}

interface LoadedTf {
  readonly tf: Tf;
  readonly WebGPUBackend: typeof WebGPUBackendClass;
}

let loaded: LoadedTf | undefined;

/**
 * tfjs-backend-webgpu checks `navigator.gpu` when it is imported, so the Dawn GPU object must be
 * in place first; hence dynamic imports, once per process.
 */
async function loadTf(bench: BenchDevice): Promise<LoadedTf> {
  if (loaded !== undefined) return loaded;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: bench.gpu }, configurable: true, writable: true });
  const tf = await import('@tensorflow/tfjs');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  loaded = { tf, WebGPUBackend };
  return loaded;
}

/**
 * Gives tfjs a fresh webgpu backend on the bench's device: a new buffer pool (so peak bytes are
 * this model's) and a new pipeline cache (so the first step includes pipeline creation).
 */
async function freshBackend({ tf, WebGPUBackend }: LoadedTf, bench: BenchDevice): Promise<WebGPUBackendClass> {
  try {
    tf.removeBackend('webgpu'); // disposes the previous backend's buffers; throws if none registered
  } catch {
    // nothing registered yet
  }
  const backend = new WebGPUBackend(bench.device, bench.adapter.info);
  tf.registerBackend('webgpu', () => backend, 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs refused the webgpu backend on the bench device');
  return backend;
}

function buildLayer(tf: Tf, layer: BenchLayer, inputs: TF.SymbolicTensor[]): TF.SymbolicTensor {
  const name = layer.name;
  const one = (l: TF.layers.Layer): TF.SymbolicTensor => l.apply(inputs[0]) as TF.SymbolicTensor;
  switch (layer.kind) {
    case 'conv':
      return one(tf.layers.conv2d({
        name, filters: layer.filters, kernelSize: layer.kernel, strides: layer.stride,
        padding: layer.padding, useBias: layer.bias, activation: layer.activation,
      }));
    case 'maxpool':
      return one(tf.layers.maxPooling2d({ name, poolSize: layer.size, strides: layer.stride, padding: 'valid' }));
    case 'batchnorm':
      // Keras' momentum is the weight of the old running value: 1 - PyTorch's.
      return one(tf.layers.batchNormalization({ name, epsilon: layer.epsilon, momentum: 1 - layer.momentum }));
    case 'relu':
      return one(tf.layers.reLU({ name }));
    case 'flatten':
      return one(tf.layers.flatten({ name }));
    case 'global_avgpool':
      return one(tf.layers.globalAveragePooling2d({ name }));
    case 'dense':
      return one(tf.layers.dense({ name, units: layer.units, useBias: layer.bias, activation: layer.activation }));
    case 'add':
      return tf.layers.add({ name }).apply(inputs) as TF.SymbolicTensor;
  }
}

/** The described network as a tf.LayersModel (functional API, so residual adds work). */
export function buildTfModel(tf: Tf, model: BenchModel): TF.LayersModel {
  const input = tf.input({ shape: [...model.inputShape], name: model.inputName });
  const tensors = new Map<string, TF.SymbolicTensor>([[model.inputName, input]]);
  let previous = model.inputName;
  for (const layer of model.layers) {
    const inputs = (layer.from ?? [previous]).map((name) => {
      const t = tensors.get(name);
      if (t === undefined) throw new Error(`layer ${layer.name} reads unknown layer ${name}`);
      return t;
    });
    tensors.set(layer.name, buildLayer(tf, layer, inputs));
    previous = layer.name;
  }
  const output = tensors.get(previous);
  if (output === undefined) throw new Error(`model ${model.id} has no layers`);
  return tf.model({ inputs: input, outputs: output, name: model.id });
}

async function trainStep(tf: Tf, tfModel: TF.LayersModel, model: BenchModel, batch: Batch): Promise<number> {
  // Tensors are made from host arrays each step, so the batch upload is part of the step (as in cnnc).
  const [h, w, c] = model.inputShape;
  const x = tf.tensor4d(batch.images, [model.batch, h, w, c]);
  const y = tf.tensor2d(batch.oneHot, [model.batch, model.classes]);
  try {
    // trainOnBatch awaits the loss value, so the step's GPU work has really finished.
    const loss = await tfModel.trainOnBatch(x, y);
    return Array.isArray(loss) ? (loss[0] ?? NaN) : loss;
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Builds, compiles and trains the model with tfjs on the bench device; returns the measurements. */
export async function runTfjsPeer(model: BenchModel, bench: BenchDevice, plan: StepPlan): Promise<TrainingFigures> {
  if (plan.timedSteps < 1) throw new Error(`timed steps must be at least 1, got ${plan.timedSteps}`);
  installDispatchCounter();
  const lib = await loadTf(bench);
  const { tf } = lib;
  const backend = await freshBackend(lib, bench);
  const batch = randomBatch(model, 1);

  const start = performance.now();
  const tfModel = buildTfModel(tf, model);
  const optimizer = tf.train.sgd(model.optimizer.learningRate);
  tfModel.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const firstLoss = await trainStep(tf, tfModel, model, batch);
  const firstStepMs = performance.now() - start;

  for (let i = 0; i < plan.warmupSteps; i++) await trainStep(tf, tfModel, model, batch);

  const before = gpuCallCounts();
  const timedStart = performance.now();
  let lastLoss = firstLoss;
  for (let i = 0; i < plan.timedSteps; i++) lastLoss = await trainStep(tf, tfModel, model, batch);
  const steadyStepMs = (performance.now() - timedStart) / plan.timedSteps;
  const calls = perStep(before, gpuCallCounts(), plan.timedSteps);

  const figures: TrainingFigures = {
    imagesPerS: model.batch / (steadyStepMs / 1000),
    firstStepMs,
    steadyStepMs,
    dispatchesPerStep: calls.dispatches,
    submitsPerStep: calls.submits,
    peakBytes: backend.memory().numBytesAllocatedInGPU,
    params: tfModel.countParams(),
    firstLoss,
    lastLoss,
  };
  tfModel.dispose();
  optimizer.dispose();
  return figures;
}
