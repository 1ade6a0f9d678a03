// `cnnc augment --data SPEC --augment LIST -o grid.png`: a grid of augmented examples. Each row
// is one example: the original, then augmented copies, drawn exactly as training draws them
// (same order of operations, same seeded generator per example).

import { resolve } from 'node:path';
import { augmentImage } from '../runtime/data/augment.ts';
import { loadData } from '../runtime/data/spec.ts';
import { Rng } from '../runtime/data/random.ts';
import { tileImages, upscaleFor } from '../runtime/images/grid.ts';
import { encodePng, type ChwImage } from '../runtime/images/png.ts';
import { describeAugmentation, parseAugmentation } from './augment-options.ts';
import { parseCommand } from './command.ts';
import { AUGMENT } from './commands.ts';
import { EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { parseNumberOption } from './numbers.ts';

export async function runAugment(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(AUGMENT, argv);
  if (positionals.length > 0) throw new UsageError(`cnnc augment takes no positional arguments, got '${positionals[0]}'`);
  if (!values.data) throw new UsageError('cnnc augment needs --data SPEC');
  if (!values.augment) throw new UsageError(`cnnc augment needs --augment LIST, e.g. --augment mirror,rotate,warp`);
  if (!values.output) throw new UsageError('cnnc augment needs -o OUT.png');
  const rows = parseNumberOption('examples', values.examples, 4, { integer: true, min: 1, max: 64 });
  const copies = parseNumberOption('copies', values.copies, 7, { integer: true, min: 1, max: 32 });
  const seed = parseNumberOption('seed', values.seed, 0, { integer: true, min: 0 });
  const data = loadData(values.data).train;
  if (data.length === 0) throw new UsageError(`--data ${values.data} has no examples`);
  const augment = parseAugmentation(values, data)!;
  const [channels, height, width] = data.shape;
  if (channels !== 1 && channels !== 3) throw new UsageError(`the data has ${channels} channels; a grid shows 1 or 3`);
  const tiles: ChwImage[] = [];
  for (let r = 0; r < Math.min(rows, data.length); r++) {
    const image = data.get(r).image;
    tiles.push({ data: image, channels, height, width });
    for (let k = 0; k < copies; k++) {
      const out = augmentImage(image, data.shape, augment, Rng.seeded(seed, r, k));
      tiles.push({ data: out.image, channels, height: out.shape[1], width: out.shape[2] });
    }
  }
  const grid = tileImages(tiles, { columns: copies + 1, scale: upscaleFor(height, width, 96), gap: 4 });
  writeFileAtomic(resolve(values.output), encodePng(grid));
  process.stdout.write(`${tiles.length} images (${Math.min(rows, data.length)} examples: the original, then ${copies} augmented) with ${describeAugmentation(augment)} -> ${values.output}\n`);
  return EXIT_OK;
}
