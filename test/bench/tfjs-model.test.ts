// The tfjs peer's networks against the descriptions, layer by layer (built on tfjs's CPU backend:
// building needs no GPU, and the WebGPU training run is in training.test.ts).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { modelStats } from '../../bench/model-stats.ts';
import { benchModels } from '../../bench/models.ts';
import { buildTfModel } from '../../bench/tfjs-peer.ts';

describe('tfjs peer models', () => {
  it.each(benchModels)('$id has the described output shape and parameter count at every layer', async (model) => {
    await tf.setBackend('cpu');
    const built = buildTfModel(tf, model);
    const stats = modelStats(model);
    for (const layer of stats.layers) {
      const tfLayer = built.getLayer(layer.name);
      expect([layer.name, tfLayer.outputShape]).toEqual([layer.name, [null, ...layer.shape]]);
      expect([layer.name, tfLayer.countParams()]).toEqual([layer.name, layer.params]);
    }
    for (const layer of model.layers) {
      if (layer.kind !== 'conv' && layer.kind !== 'dense') continue;
      const config = built.getLayer(layer.name).getConfig();
      expect([layer.name, config.activation, config.useBias]).toEqual([layer.name, layer.activation, layer.bias]);
      if (layer.kind === 'conv') {
        expect([layer.name, config.padding, config.strides]).toEqual([layer.name, layer.padding, [layer.stride, layer.stride]]);
      }
    }
    expect(built.countParams()).toBe(stats.params);
    built.dispose();
  });
});
