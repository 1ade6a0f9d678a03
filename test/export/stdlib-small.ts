// Every stdlib model at a size the export tests run in seconds (`--set`), and the check that this
// table names every model the stdlib declares, so a new model cannot miss the export tests.

import { listStdlib, loadProgram, rootModels, stdlibPath } from '../../compiler/program.ts';

export interface SmallModel {
  /** The stdlib file without `.cnn`. */
  readonly file: string;
  readonly model: string;
  readonly set?: Readonly<Record<string, number>>;
}

export const STDLIB_SMALL: readonly SmallModel[] = [
  { file: 'lenet5', model: 'LeNet5' },
  { file: 'lenet5', model: 'LeNet5Original' },
  { file: 'alexnet', model: 'AlexNet', set: { size: 63, classes: 10 } },
  { file: 'vgg', model: 'VGG16', set: { size: 32, classes: 10 } },
  { file: 'vgg', model: 'VGG19', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet18', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet34', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet50', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet101', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet152', set: { size: 32, classes: 10 } },
  { file: 'resnet', model: 'ResNet50Signs' },
  { file: 'inception', model: 'GoogLeNet', set: { size: 128, classes: 10 } },
  { file: 'inception', model: 'InceptionNaive' },
  { file: 'inception', model: 'InceptionReduced' },
  { file: 'yolo', model: 'YOLOv2', set: { size: 64, classes: 2 } },
  { file: 'yolo', model: 'ShapesYolo' },
  { file: 'segmentation', model: 'UNetSmall' },
  { file: 'localization', model: 'ClassificationWithLocalization' },
  { file: 'localization', model: 'Landmarks' },
  { file: 'sliding_windows', model: 'SlidingWindows14' },
  { file: 'sliding_windows', model: 'SlidingWindows16' },
  { file: 'sliding_windows', model: 'SlidingWindows28' },
  { file: 'facenet', model: 'FaceNetEncoder' },
  { file: 'facenet', model: 'FaceNetTriplet' },
  { file: 'facenet', model: 'FaceVerification' },
  { file: 'style_transfer', model: 'StyleTransfer', set: { height: 32, width: 32 } },
  { file: 'signals', model: 'Heartbeat' },
  { file: 'volumes', model: 'CTVolume', set: { depth: 46, size: 46 } },
];

/** `file model` of every stdlib model the table lacks. */
export function missingFromTable(table: readonly SmallModel[]): string[] {
  const listed = new Set(table.map((m) => `${m.file} ${m.model}`));
  return listStdlib().flatMap((file) => rootModels(loadProgram(stdlibPath(file))).map((m) => `${file} ${m.name.name}`)).filter((m) => !listed.has(m));
}
