// `--augment LIST` and the magnitude options, shared by `cnnc train` and `cnnc augment`: parses
// them to the data pipeline's AugmentOptions and describes the result in one line for logs.

import { pcaColorBasis, type AugmentOptions } from '../runtime/data/augment.ts';
import type { Dataset } from '../runtime/data/dataset.ts';
import { parseNumberOption } from './numbers.ts';
import { AUGMENT_FLAGS, AUGMENTATIONS } from './commands.ts';
import { UsageError } from './io.ts';

/** The parsed flags (as strings). */
export type AugmentFlagValues = Partial<Record<keyof typeof AUGMENT_FLAGS, string>>;

/** The augmentation each magnitude flag belongs to. */
const MAGNITUDE_OF: Readonly<Partial<Record<keyof typeof AUGMENT_FLAGS, (typeof AUGMENTATIONS)[number]>>> = {
  'rotate-degrees': 'rotate',
  'shear-factor': 'shear',
  'crop-scale': 'crop',
  'color-shift': 'color',
  'pca-std': 'pca',
  'warp-pixels': 'warp',
  'warp-grid': 'warp',
};

/** AugmentOptions from the flags; `data` supplies the PCA colour basis when `pca` is listed. */
export function parseAugmentation(values: AugmentFlagValues, data: Dataset): AugmentOptions | undefined {
  if (!values.augment) return undefined;
  const num = (flag: keyof typeof AUGMENT_FLAGS, fallback: number, min = 0, max = Infinity): number => parseNumberOption(flag, values[flag], fallback, { min, max });
  const out: AugmentOptions = {};
  const listed = values.augment.split(',').map((s) => s.trim());
  // A magnitude for an augmentation that is not listed would be silently ignored.
  for (const [flag, item] of Object.entries(MAGNITUDE_OF) as [keyof typeof AUGMENT_FLAGS, string][]) {
    if (values[flag] !== undefined && !listed.includes(item)) throw new UsageError(`--${flag} sets ${item}, which --augment ${values.augment} does not list`);
  }
  for (const item of listed) {
    switch (item) {
      case 'mirror':
        out.mirror = true;
        break;
      case 'crop':
        out.scaleCrop = { minScale: parseNumberOption('crop-scale', values['crop-scale'], 0.875, { min: 0, exclusiveMin: true, max: 1 }) };
        break;
      case 'rotate':
        out.rotateDegrees = num('rotate-degrees', 10, 0, 180);
        break;
      case 'shear':
        out.shear = num('shear-factor', 0.1);
        break;
      case 'color':
        out.colorShift = num('color-shift', 0.1);
        break;
      case 'pca':
        if (data.shape[0] !== 3) throw new UsageError(`--augment pca needs RGB images, the data has ${data.shape[0]} channel(s)`);
        out.pca = { std: num('pca-std', 0.1), basis: pcaColorBasis(data) };
        break;
      case 'warp':
        out.warp = { magnitude: num('warp-pixels', 2), grid: parseNumberOption('warp-grid', values['warp-grid'], 4, { integer: true, min: 2 }) };
        break;
      default:
        throw new UsageError(`--augment: unknown augmentation '${item}' (${AUGMENTATIONS.join(', ')})`);
    }
  }
  return out;
}

/** One line for the training header and the grid's caption, e.g. `mirror, rotate ±10°, warp ±2 px (4x4)`. */
export function describeAugmentation(a: AugmentOptions | undefined): string {
  if (!a) return 'none';
  const parts: string[] = [];
  if (a.rotateDegrees) parts.push(`rotate ±${a.rotateDegrees}°`);
  if (a.shear) parts.push(`shear ±${a.shear}`);
  if (a.warp) parts.push(`warp ±${a.warp.magnitude} px (${a.warp.grid}x${a.warp.grid} field)`);
  if (a.scaleCrop) parts.push(`crop ${a.scaleCrop.minScale}..1 of each side`);
  if (a.crop) parts.push(`crop ${a.crop.height}x${a.crop.width} padded by ${a.crop.padding ?? 0}`);
  if (a.mirror) parts.push('mirror');
  if (a.colorShift) parts.push(`color shift ±${a.colorShift}`);
  if (a.pca) parts.push(`pca std ${a.pca.std} (eigenvalues ${a.pca.basis.eigenvalues.map((v) => v.toPrecision(3)).join(', ')})`);
  return parts.join(', ');
}
