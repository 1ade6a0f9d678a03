// `cnnc anchors --data SPEC -k K [--grid S]`: anchor shapes by k-means over the training boxes with
// distance 1 - IoU (YOLOv2), printed in grid cells, with the mean IoU they reach and a loss line.

import { kmeansAnchors } from '../runtime/detect/anchors.ts';
import { loadDetectionData } from '../runtime/detect/records.ts';
import { parseCommand } from './command.ts';
import { ANCHORS } from './commands.ts';
import { EXIT_OK, numberOption, UsageError } from './io.ts';

export async function runAnchors(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(ANCHORS, argv);
  if (positionals.length > 0) throw new UsageError(`cnnc anchors takes no file arguments, got '${positionals[0]}'`);
  if (!values.data) throw new UsageError('cnnc anchors needs --data yolo:DIR or coco:JSON');
  const k = numberOption(values.k, '-k', 5, { min: 1, max: 50, integer: true });
  const grid = numberOption(values.grid, '--grid', 13, { min: 1, integer: true });
  const seed = numberOption(values.seed, '--seed', 1, { min: 0, integer: true });
  const data = loadDetectionData(values.data);
  if (!data) throw new UsageError(`--data expects detection data (yolo:DIR or coco:JSON[,IMAGES]), got '${values.data}'`);
  const boxes = data.train.images.flatMap((im) => im.boxes.map((b) => ({ w: b.w * grid, h: b.h * grid })));
  if (boxes.length < k) throw new UsageError(`${data.source} has ${boxes.length} boxes: too few for ${k} anchors`);
  const r = kmeansAnchors(boxes, k, seed);
  const fmt = (v: number): string => v.toFixed(3).replace(/\.?0+$/, '');
  const lines = [
    `${k} anchors by k-means (distance 1 - IoU) over ${boxes.length} boxes of ${data.source}, ${r.iterations} iterations`,
    `mean IoU ${r.meanIou.toFixed(4)}`,
    `width x height in cells of a ${grid}x${grid} grid (fractions of the image: multiply by 1/${grid}):`,
    ...r.anchors.map((a) => `  ${fmt(a.w)} x ${fmt(a.h)}`),
    `loss line: anchors ${r.anchors.map((a) => `${fmt(a.w)} x ${fmt(a.h)}`).join(' x ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
