// `cnnc eval` for detectors (models with a yolo loss): mAP at IoU 0.5 (VOC, all-point) and COCO's
// mAP over IoU 0.5:0.95, per class and overall, on the data's test split (else its images).
// Detections are kept down to score 0.01, suppressed per class at IoU 0.5, at most 100 per image
// (COCO's maxDets); boxes are compared in the network input's pixels (IoU does not change when
// each axis is scaled, so this equals comparing in the original images).

import { groupDigits } from '../compiler/checker/values.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { pickRecords, evalRecordBatches } from '../runtime/data/records.ts';
import { fromCenter, type Detection } from '../runtime/detect/boxes.ts';
import { filterDetections, yoloBoxes } from '../runtime/detect/decode.ts';
import type { Detector } from '../runtime/detect/detector.ts';
import { meanAveragePrecision, type ApReport, type ImageResult } from '../runtime/detect/map.ts';
import { detectionRecords, IMAGE_FIELD, loadDetectionData } from '../runtime/detect/records.ts';
import type { TrainingSession } from '../runtime/train/session.ts';
import { UsageError } from './io.ts';

export const EVAL_SCORE = 0.01;
export const EVAL_MAX = 100;

/** Every image of `spec`'s test split (else all) run through `session`, decoded, with its truth. */
export async function detectImages(session: TrainingSession, det: Detector, spec: string, limit: number | undefined, batch: number): Promise<{ results: ImageResult[]; classNames: readonly string[]; description: string }> {
  const data = loadDetectionData(spec);
  if (!data) throw new UsageError(`detectors evaluate on detection data (yolo:DIR or coco:JSON[,IMAGES]), got '${spec}'`);
  const set = data.test ?? data.train;
  let records = detectionRecords(set, det);
  if (limit !== undefined && limit < records.length) records = pickRecords(records, Int32Array.from({ length: limit }, (_, i) => i));
  const [c, h, w] = det.inputShape;
  const plane = c * h * w;
  const outShape = [(det.head.anchors.length / 2) * (5 + det.head.classes), det.grid.height, det.grid.width] as const;
  const outSize = outShape[0] * outShape[1] * outShape[2];
  const placement = { mode: 'resize' as const, width: w, height: h, netWidth: w, netHeight: h };
  const results: ImageResult[] = [];
  for (const b of evalRecordBatches(records, batch)) {
    const out = (await session.predict(new Map([[det.input, b.fields.get(IMAGE_FIELD)!.subarray(0, b.count * plane)]]), b.count)).get(det.output);
    if (!out) throw new UsageError(`${det.output} is not an output of the model; add \`output ${det.output}\``);
    for (let i = 0; i < b.count; i++) {
      const boxes = yoloBoxes(out.subarray(i * outSize, (i + 1) * outSize), outShape, det.head, { width: w, height: h }, EVAL_SCORE);
      const detections = filterDetections(boxes, placement, { score: EVAL_SCORE, iou: 0.5, max: EVAL_MAX });
      const truth: Detection[] = set.images[b.indices[i]!]!.boxes.map((t) => ({ ...fromCenter(t.cx * w, t.cy * h, t.w * w, t.h * h), classId: t.classId, score: 1 }));
      results.push({ detections, truth });
    }
  }
  return { results, classNames: set.classNames, description: data.description };
}

export function describeAp(report: ApReport, classNames: readonly string[]): string[] {
  const width = Math.max(5, ...classNames.map((n) => n.length));
  const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`).padStart(12);
  return [
    `${'class'.padEnd(width)}  ${'boxes'.padStart(6)}  ${'AP@0.5'.padStart(12)}  ${'AP@.5:.95'.padStart(12)}`,
    ...report.perClass.map((p, i) => `${classNames[i]!.padEnd(width)}  ${groupDigits(p.truths).padStart(6)}  ${pct(p.voc50)}  ${pct(p.coco)}`),
    `mAP@0.5 ${(report.map50 * 100).toFixed(1)}% (VOC, all-point)`,
    `mAP@[.5:.95] ${(report.mapCoco * 100).toFixed(1)}% (COCO, 101-point)`,
  ];
}

export async function runDetectionEval(graph: ModelGraph, det: Detector, session: TrainingSession, spec: string, limit: number | undefined, batch: number): Promise<string[]> {
  const { results, classNames, description } = await detectImages(session, det, spec, limit, batch);
  process.stderr.write(`cnnc eval: ${graph.name} on ${session.device}; ${description}; ${groupDigits(results.length)} images\n`);
  return describeAp(meanAveragePrecision(results, det.head.classes), classNames);
}
