// The course's FaceNet weights (the CSV folder read by fr_utils.load_weights: `<layer>_w.csv`,
// `_b.csv`, and for batchnorm `_m.csv`, `_v.csv`; `dense_w.csv`, `dense_b.csv`) under cnnc's
// names for stdlib/facenet.cnn. The CSV values are already in PyTorch's layouts (convolutions
// OIHW, fr_utils transposes them for Keras; the dense layer [out, in]), so only names change.

import { FaceError } from './verification.ts';

const BRANCHES: Readonly<Record<string, string>> = { '3x3': 'branch_3x3', '5x5': 'branch_5x5', pool: 'pool_conv', '1x1': 'branch_1x1' };
const SUFFIXES: Readonly<Record<string, string>> = { weight: 'w', bias: 'b', running_mean: 'm', running_var: 'v' };

/**
 * The course's CSV file (without `.csv`) holding a cnnc FaceNet tensor, e.g.
 * `encoder.inception_3a.branch_3x3.bn1.running_mean` -> `inception_3a_3x3_bn1_m`.
 */
export function courseFileFor(name: string): string {
  const parts = name.split('.');
  if (parts[0] !== 'encoder' || parts.length < 3) throw new FaceError(`${name}: not a FaceNetEncoder tensor (expected encoder.<layer>.<tensor>)`);
  const suffix = SUFFIXES[parts.at(-1)!];
  if (!suffix) throw new FaceError(`${name}: unknown tensor kind '${parts.at(-1)}'`);
  const layer = parts.slice(1, -1);
  if (layer.length === 1) return layer[0] === 'dense_layer' ? `dense_${suffix}` : `${layer[0]}_${suffix}`;
  const [block, branch, unit] = layer;
  const short = Object.entries(BRANCHES).find(([, v]) => v === branch)?.[0];
  if (layer.length !== 3 || !short) throw new FaceError(`${name}: no counterpart in the course's weights`);
  // 1x1 and pool branches have one stage: `conv`/`bn` in both namings.
  return `${block}_${short}_${unit}_${suffix}`;
}

/** Parses one CSV file of numbers (commas and newlines) into exactly `count` values. */
export function parseCsvValues(text: string, count: number, source: string): Float32Array {
  const cells = text.split(/[,\s]+/).filter((c) => c.length > 0);
  if (cells.length !== count) throw new FaceError(`${source}: ${cells.length} values, expected ${count}`);
  const out = new Float32Array(count);
  cells.forEach((c, i) => {
    const v = Number(c);
    if (!Number.isFinite(v)) throw new FaceError(`${source}: value ${i + 1} is '${c}', not a number`);
    out[i] = v;
  });
  return out;
}
