// The models the PyTorch fixtures cover: which .cnn model, batch size and what to record.
// `node bin/run-ts.js test/ir/export-graphs.ts` writes their graphs for scripts/torch_fixtures.py.

export interface FixtureModel {
  /** Fixture file stem in test/fixtures/torch/. */
  readonly id: string;
  /** Relative to the repository root. */
  readonly file: string;
  readonly model: string;
  readonly batch: number;
  readonly overrides?: Readonly<Record<string, number>>;
  /** Also record one SGD step and one Adam step from the same weights and batch. */
  readonly steps?: boolean;
  /** Also record 3 steps of each optimizer configuration (OPTIMIZER_RUNS in the script). */
  readonly optimizers?: boolean;
}

const OPS = 'test/ir/models/ops.cnn';
const MODELS = 'test/ir/models/models.cnn';

export const FIXTURE_MODELS: readonly FixtureModel[] = [
  { id: 'optimizers', file: OPS, model: 'Activations', batch: 4, optimizers: true },
  ...['ConvStridePad', 'ConvSameStride2', 'ConvDilated', 'Conv1d', 'Conv3d', 'MaxPoolPad', 'AvgPoolCeil', 'GlobalPools', 'BatchNormTrain', 'Activations', 'MovePixels', 'Normalized'].map(
    (model) => ({ id: `op_${model}`, file: OPS, model, batch: 3 }),
  ),
  { id: 'lenet5', file: 'stdlib/lenet5.cnn', model: 'LeNet5', batch: 4, overrides: { channels: 1 }, steps: true },
  { id: 'resnet_blocks', file: MODELS, model: 'ResNetBlocks', batch: 3, steps: true },
  { id: 'inception', file: MODELS, model: 'Inception', batch: 2 },
  { id: 'triplet', file: MODELS, model: 'Triplet', batch: 3 },
  { id: 'style_transfer', file: MODELS, model: 'StyleTransfer', batch: 1 },
  { id: 'localization', file: MODELS, model: 'Localization', batch: 4 },
  { id: 'op_ConvTranspose', file: OPS, model: 'ConvTranspose', batch: 3, steps: true },
];
