// docs/images/detections.png: the PNGs `cnnc detect` wrote for some images, tiled in rows at an
// integer zoom (nearest neighbour, so the drawn labels stay sharp), with white gaps.
//   node bin/run-ts.js scripts/detection-picture.ts OUT.png COLUMNS ZOOM A.png B.png ...

import { Canvas } from '../runtime/detect/canvas.ts';
import { readImageFile } from '../runtime/data/image-file.ts';
import { writeFileAtomic } from '../cli/io.ts';

const GAP = 4;
const [out, columnsArg, zoomArg, ...files] = process.argv.slice(2);
if (!out || !columnsArg || !zoomArg || files.length === 0) throw new Error('usage: detection-picture.ts OUT.png COLUMNS ZOOM A.png B.png ...');
const columns = Number(columnsArg);
const zoom = Number(zoomArg);
const images = files.map((f) => readImageFile(f));
const cellW = Math.max(...images.map((i) => i.width)) * zoom;
const cellH = Math.max(...images.map((i) => i.height)) * zoom;
const rows = Math.ceil(images.length / columns);
const sheet = new Canvas(columns * cellW + (columns - 1) * GAP, rows * cellH + (rows - 1) * GAP);
images.forEach((img, k) => {
  const left = (k % columns) * (cellW + GAP);
  const top = Math.floor(k / columns) * (cellH + GAP);
  for (let y = 0; y < img.height * zoom; y++) {
    for (let x = 0; x < img.width * zoom; x++) {
      const o = (Math.floor(y / zoom) * img.width + Math.floor(x / zoom)) * 4;
      sheet.pixel(left + x, top + y, [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!]);
    }
  }
});
writeFileAtomic(out, sheet.png());
