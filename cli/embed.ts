// `cnnc embed FILE --weights W IMAGE|DIR... -o encodings.safetensors`: the encoder's output for
// each image, as one tensor `encodings` [images, dim] with the file names, in order, in the
// metadata (`files`, a JSON array) beside the model and the layer they came from.

import { f32 } from '../runtime/tensor.ts';
import { writeSafetensors } from '../runtime/safetensors.ts';
import { parseCommand } from './command.ts';
import { EMBED } from './commands.ts';
import { expandImagePaths, openFileEncoder } from './encoder-input.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun } from './model-input.ts';

export async function runEmbed(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(EMBED, argv);
  if (positionals.length < 2) throw new UsageError('cnnc embed takes a .cnn file and one or more images or folders');
  if (!values.output) throw new UsageError('cnnc embed needs -o FILE.safetensors');
  const [file, ...args] = positionals;
  const graph = compileForRun(file, values.model, values.set);
  if (!graph) return EXIT_ERRORS;
  const paths = expandImagePaths(args);
  const opened = await openFileEncoder(graph, values);
  try {
    const enc = await opened.encodeFiles(paths);
    const metadata = { files: JSON.stringify(paths), model: graph.name, layer: opened.encoder.choice.layer };
    writeFileAtomic(values.output, writeSafetensors({ encodings: f32([enc.count, enc.dim], enc.data) }, metadata));
    process.stderr.write(`cnnc embed: ${enc.count} image(s) through ${graph.name} to ${opened.encoder.choice.layer} (${enc.dim} values each) on ${opened.device}; wrote ${values.output}\n`);
    return EXIT_OK;
  } finally {
    opened.close();
  }
}
