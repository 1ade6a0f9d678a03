// `cnnc detect FILE --weights W IMAGE... [--score 0.6] [--iou 0.5] [--max 10] -o DIR`: runs a
// detector (a model with a yolo loss) or a sliding-window classifier on images; writes per image a
// PNG with labelled boxes and one COCO results file, and prints the boxes (and, for sliding
// windows, the grid of class scores).

import { basename, dirname, extname, join } from 'node:path';
import type { ModelGraph } from '../compiler/graph.ts';
import { loadCoco } from '../runtime/detect/annotations.ts';
import { toXywh, type Detection } from '../runtime/detect/boxes.ts';
import { Canvas, CLASS_COLORS } from '../runtime/detect/canvas.ts';
import { filterDetections, yoloBoxes, type FilterOptions } from '../runtime/detect/decode.ts';
import { detectorOf } from '../runtime/detect/detector.ts';
import { placeImage, type Placement } from '../runtime/detect/placement.ts';
import { readImageFile } from '../runtime/data/image-file.ts';
import type { Rgba } from '../runtime/data/image.ts';
import { windowDetections, windowGeometry } from '../runtime/detect/windows.ts';
import type { TrainingSession } from '../runtime/train/session.ts';
import { parseCommand } from './command.ts';
import { DETECT } from './commands.ts';
import type { Json } from '../runtime/checkpoint.ts';
import { openEnsemble, storedClassNames, storedInfo } from './infer.ts';
import { EXIT_ERRORS, EXIT_OK, numberOption, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';

/** How one model turns its output for one image into candidate boxes in input pixels. */
interface Reader {
  readonly input: string;
  readonly inputShape: readonly [number, number, number];
  readonly output: string;
  readonly classes: number;
  boxes(out: Float32Array, minScore: number): Detection[];
  /** Lines printed for the image beside its boxes (the sliding-window score grid). */
  describe?(out: Float32Array, names: readonly string[]): string[];
}

function yoloReader(graph: ModelGraph): Reader | undefined {
  const det = detectorOf(graph);
  if (!det) return undefined;
  const [, h, w] = det.inputShape;
  const per = 5 + det.head.classes;
  const shape = [(det.head.anchors.length / 2) * per, det.grid.height, det.grid.width] as const;
  return { input: det.input, inputShape: det.inputShape, output: det.output, classes: det.head.classes, boxes: (out, minScore) => yoloBoxes(out, shape, det.head, { width: w, height: h }, minScore) };
}

function slidingReader(graph: ModelGraph, background: number | undefined): Reader | undefined {
  const input = graph.inputs.find((i) => !i.trainable);
  const output = graph.outputs[0];
  const layer = graph.layers.find((l) => l.name === output);
  if (!input || input.shape.length !== 3 || !layer || layer.shape.length !== 3) return undefined;
  const geometry = windowGeometry(graph, layer.name);
  if (!geometry) return undefined;
  const [gh, gw, classes] = layer.shape as [number, number, number];
  const shape = [classes, gh, gw] as const;
  const [h, w, c] = input.shape as [number, number, number];
  return {
    input: input.name,
    inputShape: [c, h, w],
    output: layer.name,
    classes,
    boxes: (out, minScore) => windowDetections(out, shape, geometry, minScore, background),
    describe: (out, names) => {
      const lines = [`  ${gh}x${gw} windows of ${geometry.size[0]}x${geometry.size[1]} pixels, stride ${geometry.step[0]}; class scores:`];
      for (let k = 0; k < classes; k++) {
        lines.push(`  ${names[k]}:`);
        for (let y = 0; y < gh; y++) lines.push(`    ${Array.from({ length: gw }, (_, x) => out[(k * gh + y) * gw + x]!.toFixed(2)).join(' ')}`);
      }
      return lines;
    },
  };
}

/** COCO style: the number in the file name (000000397133.jpg is image 397133), else the position (1-based). */
function imageId(file: string, index: number): number {
  const digits = /(\d+)$/.exec(basename(file, extname(file)));
  return digits ? Number(digits[1]) : index + 1;
}

/** Image ids, category ids and class names from `--coco JSON`, the annotations of the images given. */
function cocoNumbering(json: string, images: readonly string[], classes: number): { ids: number[]; categories: readonly number[]; names: readonly string[] } {
  const set = loadCoco(json, dirname(json), { requireImages: false });
  if (set.categoryIds.length !== classes) throw new UsageError(`${json} has ${set.categoryIds.length} categories; the model has ${classes} classes`);
  const byName = new Map(set.images.map((im) => [basename(im.file), im.id]));
  const ids = images.map((image) => {
    const id = byName.get(basename(image));
    if (id === undefined) throw new UsageError(`${image} is not among the images of ${json} (matched by file name)`);
    return id;
  });
  return { ids, categories: set.categoryIds, names: set.classNames };
}

/**
 * COCO category id of each class: those of the COCO annotations the weights were trained on (kept
 * in the checkpoint), else the class number + 1.
 */
function categoryIds(info: Record<string, Json>, classes: number): readonly number[] {
  const stored = info.category_ids;
  const ids = Array.isArray(stored) && stored.length === classes && stored.every((v) => Number.isInteger(v)) ? (stored as number[]) : undefined;
  return ids ?? Array.from({ length: classes }, (_, i) => i + 1);
}

function draw(image: Rgba, dets: readonly Detection[], names: readonly string[]): Uint8Array {
  const canvas = Canvas.from(image);
  const scale = Math.max(1, Math.round(Math.min(canvas.width, canvas.height) / 160));
  canvas.labelledBoxes(dets.map((d) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, label: `${names[d.classId]} ${d.score.toFixed(2)}`, color: CLASS_COLORS[d.classId % CLASS_COLORS.length]! })), scale);
  return canvas.png();
}

export async function runDetect(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(DETECT, argv);
  if (positionals.length < 2) throw new UsageError('cnnc detect takes a .cnn file and at least one image');
  if (!values.weights) throw new UsageError('cnnc detect needs --weights W');
  if (!values.output) throw new UsageError('cnnc detect needs -o DIR');
  const options: FilterOptions = {
    score: numberOption(values.score, '--score', 0.6, { min: 0, max: 1 }),
    iou: numberOption(values.iou, '--iou', 0.5, { min: 0, max: 1 }),
    max: numberOption(values.max, '--max', 10, { min: 1, integer: true }),
    classAgnostic: values['class-agnostic'] ?? false,
  };
  const background = numberOption(values.background, '--background', 0, { min: -1, integer: true });
  const [file, ...images] = positionals as [string, ...string[]];
  const stems = images.map((image) => basename(image, extname(image)));
  const twice = stems.find((stem, i) => stems.indexOf(stem) !== i);
  if (twice !== undefined) throw new UsageError(`two images are named ${twice}: their pictures would both be ${join(values.output, `${twice}.png`)}`);
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const reader = yoloReader(graph) ?? slidingReader(graph, background < 0 ? undefined : background);
  if (!reader) throw new UsageError(`model ${graph.name} is neither a detector (a yolo loss) nor a fully convolutional classifier with an H x W x classes output`);
  const info = storedInfo(values.weights);
  const coco = values.coco === undefined ? undefined : cocoNumbering(values.coco, images, reader.classes);
  const given = values['class-names']?.split(',').map((s) => s.trim());
  if (given && given.length !== reader.classes) throw new UsageError(`--class-names gives ${given.length} names; the model has ${reader.classes} classes`);
  // Names stored with weights of another model are passed over: loading the weights names the misfit.
  const stored = storedClassNames(values.weights, info);
  const names = given ?? coco?.names ?? (stored?.length === reader.classes ? stored : undefined) ?? Array.from({ length: reader.classes }, (_, i) => `class ${i}`);
  const categories = coco?.categories ?? categoryIds(info, reader.classes);
  const [sessionOpened] = await openEnsemble(graph, [values.weights], 1, values.backend);
  const session: TrainingSession = sessionOpened!;
  const results: { image_id: number; category_id: number; bbox: number[]; score: number }[] = [];
  const lines: string[] = [];
  // Pictures are written once every image has been read and run: a bad image leaves nothing behind.
  const pictures: [string, Uint8Array][] = [];
  try {
    const [c, h, w] = reader.inputShape;
    if (c !== 1 && c !== 3) throw new UsageError(`model input has ${c} channels; detection reads 1 or 3`);
    for (const [index, image] of images.entries()) {
      const rgba = readImageFile(image);
      const placement: Placement = { mode: values.letterbox ? 'letterbox' : 'resize', width: rgba.width, height: rgba.height, netWidth: w, netHeight: h };
      const out = (await session.predict(new Map([[reader.input, placeImage(rgba, placement, c)]]), 1)).get(reader.output);
      if (!out) throw new UsageError(`${reader.output} is not an output of model ${graph.name}; add \`output ${reader.output}\``);
      const dets = filterDetections(reader.boxes(out, options.score), placement, options);
      const id = coco?.ids[index] ?? imageId(image, index);
      lines.push(`${image} (image_id ${id}): ${dets.length} box${dets.length === 1 ? '' : 'es'}`, ...(reader.describe?.(out, names) ?? []));
      for (const d of dets) {
        lines.push(`  ${names[d.classId]} ${d.score.toFixed(3)} at (${d.x1.toFixed(1)}, ${d.y1.toFixed(1)}) to (${d.x2.toFixed(1)}, ${d.y2.toFixed(1)})`);
        results.push({ image_id: id, category_id: categories[d.classId]!, bbox: toXywh(d).map((v) => Number(v.toFixed(2))), score: Number(d.score.toFixed(5)) });
      }
      pictures.push([join(values.output, `${stems[index]}.png`), draw(rgba, dets, names)]);
    }
  } finally {
    session.dispose();
  }
  for (const [path, png] of pictures) writeFileAtomic(path, png);
  writeFileAtomic(join(values.output, 'results.json'), `${JSON.stringify(results)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stderr.write(`cnnc detect: ${images.length} image(s), ${results.length} box(es); PNGs and results.json in ${values.output}\n`);
  return EXIT_OK;
}
