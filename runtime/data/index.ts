// The data pipeline's public surface: readers, specs, batching, augmentation, worker threads.
export { ArrayDataset, DataError, SubsetDataset, materialize, subset, type Dataset, type Example } from './dataset.ts';
export { IdxError, loadIdxDataset, parseIdx, readIdxFile, type IdxArray } from './idx.ts';
export { ImageFolderDataset, type ImageFolderOptions } from './image-folder.ts';
export { decodeImage, fitImage, type Rgba } from './image.ts';
export { loadSafetensorsDataset } from './safetensors-dataset.ts';
export { FASHION_CLASSES, loadData, parseDataSpec, type DataSpec, type LoadedData } from './spec.ts';
export { Rng, RngStateError } from './random.ts';
export {
  BatchLoader,
  BatchPlanner,
  channelStats,
  evalBatches,
  exampleShape,
  makeBatch,
  prepareExample,
  tenCropBatch,
  type Batch,
  type BatchJob,
  type Normalization,
  type PipelineOptions,
  type StreamState,
} from './pipeline.ts';
export {
  augmentImage,
  fitCenter,
  mirror,
  crop,
  affine,
  tenCrop,
  pcaColorBasis,
  symmetricEigen3,
  type AugmentOptions,
  type ImageShape,
  type PcaBasis,
} from './augment.ts';
export { BatchWorkerPool, PrefetchLoader, startPrefetch } from './worker-pool.ts';
