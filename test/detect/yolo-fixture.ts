// The YOLO loss fixture (scripts/detection_fixtures.py) as an IR program: loss and d loss / d output.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gradients } from '../../compiler/autodiff/gradients.ts';
import { GraphBuilder } from '../../compiler/ir/build.ts';
import type { IrProgram } from '../../compiler/ir/program.ts';
import { yoloLoss } from '../../compiler/lower/yolo-loss.ts';

export interface YoloFixture {
  readonly shape: number[];
  readonly anchors: [number, number][];
  readonly classes: number;
  readonly output: number[];
  readonly target: number[];
  readonly loss: number;
  readonly grad: number[];
  /** Predictions not charged as no-object because they overlap a true box by IoU > 0.6. */
  readonly ignored: number;
}

export const YOLO_FIXTURE = JSON.parse(readFileSync(resolve('test/fixtures/detection/yolo_loss.json'), 'utf8')) as YoloFixture;

export function yoloProgram(f: YoloFixture): { program: IrProgram; feeds: Map<string, Float32Array> } {
  const b = new GraphBuilder();
  const y = b.leaf('y', 'feed', f.shape);
  const t = b.leaf('t', 'feed', f.shape);
  const loss = yoloLoss(b, y, t, f.anchors.flat());
  const grad = gradients(b, loss, [y]).get(y)!;
  return {
    program: { nodes: b.nodes, outputs: new Map([['loss', loss], ['grad', grad]]), updates: [] },
    feeds: new Map([['y', Float32Array.from(f.output)], ['t', Float32Array.from(f.target)]]),
  };
}

/** max |got - want| / max |want|. */
export function relativeTo(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}
