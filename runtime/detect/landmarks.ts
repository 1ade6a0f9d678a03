// Landmark points drawn on the picture they were predicted from. A landmark model outputs
// (x1, y1, x2, y2, ...) as fractions of its input (0 to 1, x to the right, y down); the input was
// the picture scaled by `scale` and cropped to its centre, so points map back through both.

import type { Rgba } from '../data/image.ts';
import { Canvas, type Color } from './canvas.ts';

export interface InputCrop {
  /** Input size in pixels. */
  readonly width: number;
  readonly height: number;
  /** The picture was scaled by this before the centre crop. */
  readonly scale: number;
}

/** The picture with a cross-hair dot at each point; points outside the picture are skipped. */
export function drawPoints(img: Rgba, points: ArrayLike<number>, crop: InputCrop, color: Color = [255, 40, 40]): Canvas {
  const canvas = Canvas.from(img);
  const offX = (img.width * crop.scale - crop.width) / 2;
  const offY = (img.height * crop.scale - crop.height) / 2;
  const r = Math.max(1, Math.round(Math.min(img.width, img.height) / 80));
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = (points[i]! * crop.width + offX) / crop.scale;
    const y = (points[i + 1]! * crop.height + offY) / crop.scale;
    if (!(x >= 0 && y >= 0 && x < img.width && y < img.height)) continue;
    canvas.fillRect(x - r - 1, y - r - 1, x + r + 1, y + r + 1, [255, 255, 255]);
    canvas.fillRect(x - r, y - r, x + r, y + r, color);
  }
  return canvas;
}
