// `cnnc eval` on an encoder (a model without a loss, or a triplet or Siamese pair model): every
// pair of held-out images, verification accuracy at the best threshold, ROC AUC and the
// true-accept rate at false-accept rates 1e-2 and 1e-3. The chosen threshold is stored in the
// weights file's metadata, where verify and recognize find it.

import { groupDigits } from '../compiler/checker/values.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import type { Dataset } from '../runtime/data/dataset.ts';
import type { LoadedData } from '../runtime/data/spec.ts';
import { encodeDataset } from '../runtime/faces/encoder.ts';
import { metricKind } from '../runtime/faces/metric-training.ts';
import { storeVerification } from '../runtime/faces/threshold.ts';
import { allPairDistances, requireVerificationPairs, verificationReport } from '../runtime/faces/verification.ts';
import { labelsOf } from '../runtime/data/labels.ts';
import type { EVAL } from './commands.ts';
import type { parseCommand } from './command.ts';
import { openFileEncoder, parsePositiveInt, stratifiedLimit } from './encoder-input.ts';
import { EXIT_OK, UsageError } from './io.ts';

type EvalValues = ReturnType<typeof parseCommand<(typeof EVAL)['options']>>['values'];

/** Models `cnnc eval` treats as encoders: no loss, or a metric-learning loss. */
export function isEncoderModel(graph: ModelGraph): boolean {
  return graph.loss.length === 0 || metricKind(graph) !== undefined;
}

export async function runEncoderEval(graph: ModelGraph, values: EvalValues, loaded: LoadedData): Promise<number> {
  const weights = values.weights ?? [];
  if (weights.length !== 1) throw new UsageError('cnnc eval on an encoder takes one --weights file (its threshold is stored there)');
  if (values['ten-crop']) throw new UsageError('--ten-crop applies to classifiers, not encoders');
  let data: Dataset = loaded.test ?? loaded.train;
  if (values.val !== undefined) throw new UsageError('--val is not supported on an encoder: give the held-out images as their own folder');
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--seed expects a whole number, got '${values.seed}'`);
  if (values.limit) data = stratifiedLimit(data, parsePositiveInt(values.limit, '--limit', data.length), seed);
  requireVerificationPairs(labelsOf(data)); // before the encoder opens: nothing to encode in vain
  const opened = await openFileEncoder(graph, { weights: weights[0], layer: values.layer, backend: values.backend, batch: values.batch });
  try {
    process.stderr.write(`cnnc eval: ${graph.name}'s encoding ${opened.encoder.choice.layer} (${opened.encoder.dim} values) on ${opened.device}; ${loaded.description}; ${groupDigits(data.length)} images\n`);
    const { encodings, labels } = await encodeDataset(opened.encoder, data);
    const report = verificationReport(allPairDistances(encodings, labels));
    const lines = [
      `pairs: ${groupDigits(report.sameCount)} of the same identity, ${groupDigits(report.differentCount)} of different identities`,
      `accuracy ${(report.accuracy * 100).toFixed(2)}% at the best threshold, distance <= ${report.threshold.toFixed(4)}`,
      `ROC AUC ${report.auc.toFixed(4)}`,
      ...report.tarAtFar.map((t) => `TAR ${(t.tar * 100).toFixed(2)}% at FAR ${t.far} (distance < ${t.threshold.toFixed(4)})`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    storeVerification(weights[0], report, opened.encoder.choice.layer, values.data!);
    process.stderr.write(`threshold ${report.threshold.toFixed(4)} stored in ${weights[0]}; verify and recognize use it unless --threshold is given\n`);
    return EXIT_OK;
  } finally {
    opened.close();
  }
}
