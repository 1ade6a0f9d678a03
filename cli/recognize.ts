// `cnnc recognize FILE --weights W --db DIR IMAGE|DIR...`: each image's nearest identity in the
// database (one sub-folder per identity) and its distance, or "not in the database" when even the
// nearest is farther than the threshold. The database's encodings are cached (see
// runtime/faces/database.ts). When query images sit in folders named like identities, the
// closed-set accuracy (nearest identity right) is printed at the end: one-shot evaluation.

import { basename, dirname, join } from 'node:path';
import { DEFAULT_CACHE_NAME, loadDatabase } from '../runtime/faces/database.ts';
import { pickThreshold } from '../runtime/faces/threshold.ts';
import { nearestIdentity } from '../runtime/faces/recognition.ts';
import { parseCommand } from './command.ts';
import { RECOGNIZE } from './commands.ts';
import { expandImagePaths, openFileEncoder } from './encoder-input.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError } from './io.ts';
import { compileForRun } from './model-input.ts';
import { parseNumberOption } from './numbers.ts';

export async function runRecognize(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(RECOGNIZE, argv);
  if (positionals.length < 2) throw new UsageError('cnnc recognize takes a .cnn file and one or more images or folders');
  if (!values.db) throw new UsageError('cnnc recognize needs --db DIR (one sub-folder per identity)');
  const [file, ...args] = positionals;
  const thresholdOption = values.threshold === undefined ? undefined : parseNumberOption('threshold', values.threshold, 0, { min: 0 });
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const queries = expandImagePaths(args);
  const opened = await openFileEncoder(graph, values);
  try {
    const { threshold, source } = pickThreshold(thresholdOption, opened.metadata, opened.encoder.choice.layer);
    const cache = values.cache ?? join(values.db, DEFAULT_CACHE_NAME);
    const db = await loadDatabase(values.db, cache, opened.key, opened.encoder.dim, (paths) => opened.encodeFiles(paths));
    process.stderr.write(
      `cnnc recognize: ${db.identities.length} identities, ${db.images.length} images in ${values.db} (${db.reused} encodings from the cache, ${db.computed} computed); threshold ${threshold.toFixed(4)} (${source}); ${opened.device}\n`,
    );
    const enc = await opened.encodeFiles(queries);
    const known = new Set(db.identities);
    let labelled = 0;
    let right = 0;
    const lines: string[] = [];
    queries.forEach((q, i) => {
      const near = nearestIdentity(db, enc.data.subarray(i * enc.dim, (i + 1) * enc.dim));
      lines.push(near.distance <= threshold ? `${q}: ${near.identity} (distance ${near.distance.toFixed(4)})` : `${q}: not in the database (nearest ${near.identity} at ${near.distance.toFixed(4)})`);
      const truth = basename(dirname(q));
      if (known.has(truth)) {
        labelled++;
        if (truth === near.identity) right++;
      }
    });
    if (labelled > 0) lines.push(`nearest identity right for ${right} of ${labelled} queries in folders named like an identity (${((right / labelled) * 100).toFixed(2)}%)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    opened.close();
  }
}
