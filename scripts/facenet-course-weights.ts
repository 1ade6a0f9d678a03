// Converts the course's FaceNet weights (the CSV folder of fr_utils.load_weights) into a
// safetensors file with cnnc's names for stdlib/facenet.cnn's FaceNetEncoder:
//   node bin/run-ts.js scripts/facenet-course-weights.ts WEIGHTS_DIR OUT.safetensors
// Running statistics of the batchnorm layers come from `_m`/`_v`; every tensor is checked for
// its value count. See docs/faces.md.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../compiler/program.ts';
import { writeSafetensorsFile } from '../runtime/checkpoint.ts';
import { courseFileFor, parseCsvValues } from '../runtime/faces/course-weights.ts';
import { f32, type HostTensor } from '../runtime/tensor.ts';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) throw new Error('usage: facenet-course-weights.ts WEIGHTS_DIR OUT.safetensors');
const file = fileURLToPath(new URL('../stdlib/facenet.cnn', import.meta.url));
const graph = compileModel({ file, model: 'FaceNetEncoder', overrides: {} }).graph!;
const tensors = new Map<string, HostTensor>();
for (const p of graph.layers.flatMap((l) => l.params)) {
  const path = join(dir, `${courseFileFor(p.name)}.csv`);
  const count = p.shape.reduce((a, b) => a * b, 1);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    process.stderr.write(`facenet-course-weights: ${path}: no such file (needed for ${p.name})\n`);
    process.exit(1);
  }
  tensors.set(p.name, f32([...p.shape], parseCsvValues(text, count, path)));
}
writeSafetensorsFile(out, tensors, { source: `course FaceNet weights from ${dir}` });
process.stdout.write(`wrote ${tensors.size} tensors to ${out}\n`);
