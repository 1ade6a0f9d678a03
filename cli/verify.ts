// `cnnc verify FILE --weights W A.png B.png [--threshold T]`: the Euclidean distance between the
// two encodings and the decision, same identity when the distance is at most the threshold.

import { distance, row } from '../runtime/faces/verification.ts';
import { pickThreshold } from '../runtime/faces/threshold.ts';
import { parseCommand } from './command.ts';
import { VERIFY } from './commands.ts';
import { openFileEncoder } from './encoder-input.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError } from './io.ts';
import { compileForRun } from './model-input.ts';
import { parseNumberOption } from './numbers.ts';

export async function runVerify(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(VERIFY, argv);
  if (positionals.length !== 3) throw new UsageError('cnnc verify takes a .cnn file and two images');
  const [file, a, b] = positionals;
  const thresholdOption = values.threshold === undefined ? undefined : parseNumberOption('threshold', values.threshold, 0, { min: 0 });
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const opened = await openFileEncoder(graph, values);
  try {
    const { threshold, source } = pickThreshold(thresholdOption, opened.metadata, opened.encoder.choice.layer);
    const enc = await opened.encodeFiles([a, b]);
    const d = distance(row(enc, 0), row(enc, 1));
    const same = d <= threshold;
    process.stdout.write(`${a} ${b}: distance ${d.toFixed(4)}, threshold ${threshold.toFixed(4)} (${source}): ${same ? 'same identity' : 'different identities'}\n`);
    return EXIT_OK;
  } finally {
    opened.close();
  }
}
