// `cnnc scenes -o DIR [--train N] [--test N] [--size PX] [--seed N]`: synthetic detection scenes
// in YOLO text format (runtime/detect/scenes.ts).

import { parseCommand } from './command.ts';
import { SCENES } from './commands.ts';
import { EXIT_OK, numberOption, UsageError } from './io.ts';
import { DEFAULT_SCENES, SCENE_CLASSES, writeScenes } from '../runtime/detect/scenes.ts';

export async function runScenes(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SCENES, argv);
  if (positionals.length > 0) throw new UsageError(`cnnc scenes takes no file arguments, got '${positionals[0]}'`);
  if (!values.output) throw new UsageError('cnnc scenes needs -o DIR');
  const train = numberOption(values.train, '--train', 1000, { min: 0, integer: true });
  const test = numberOption(values.test, '--test', 200, { min: 0, integer: true });
  const size = numberOption(values.size, '--size', DEFAULT_SCENES.size, { min: 48, max: 1024, integer: true });
  const seed = numberOption(values.seed, '--seed', 1, { min: 0, integer: true });
  const scale = size / DEFAULT_SCENES.size;
  const started = performance.now();
  writeScenes(values.output, { train, test }, seed, { ...DEFAULT_SCENES, size, minSide: DEFAULT_SCENES.minSide * scale, maxSide: DEFAULT_SCENES.maxSide * scale });
  process.stderr.write(`cnnc scenes: ${train} train and ${test} test images of ${size}x${size}, classes ${SCENE_CLASSES.join(', ')}, in ${values.output} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  return EXIT_OK;
}
