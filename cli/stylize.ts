// `cnnc stylize FILE --content C --style S --weights W -o OUT.png`: neural style transfer. Reads
// the two pictures, fits them to the model's image inputs, and optimises the model's trainable
// input with Adam on its pixels (0..255, clipped), printing J, J_content and J_style as it goes
// and writing intermediate pictures with --save-every. Any model with one trainable input and a
// loss works; the inputs whose names contain `content` and `style` take the two pictures.

import { basename, dirname, extname, join, resolve } from 'node:path';
import type { InputNode, ModelGraph } from '../compiler/graph.ts';
import { loadProgram, rootModels } from '../compiler/program.ts';
import { buildInputObjective, reweightLoss, type InputObjective, type LossGroup } from '../compiler/lower/input-objective.ts';
import { fitImage } from '../runtime/data/image.ts';
import { Rng } from '../runtime/data/random.ts';
import { encodePng } from '../runtime/images/png.ts';
import { optimizeInput, type StepReport } from '../runtime/stylize/optimize.ts';
import { encodePixels, encodingOf, PIXEL_ENCODINGS, PIXEL_MAX, type PixelEncoding } from '../runtime/stylize/pixels.ts';
import { shapeToString } from '../runtime/tensor.ts';
import { pickExecutor } from '../runtime/train/create-session.ts';
import { readWeightsFor } from '../runtime/weights/load.ts';
import { formatDuration } from '../runtime/train/progress.ts';
import { fitWeights } from '../runtime/fit-weights.ts';
import { expectOneFile, parseCommand } from './command.ts';
import { readImageFile } from '../runtime/data/image-file.ts';
import { STYLIZE } from './commands.ts';
import { EXIT_ERRORS, EXIT_OK, UsageError, writeFileAtomic } from './io.ts';
import { compileForRun, parseBackend } from './model-input.ts';
import { parseNumberOption, parseSize } from './numbers.ts';

interface Settings {
  readonly steps: number;
  readonly lr: number;
  readonly init: 'noise' | 'content';
  readonly noise: number;
  readonly seed: number;
  readonly saveEvery: number;
  readonly pixels: PixelEncoding;
}

function settingsOf(values: Record<string, string | boolean | string[] | undefined>): Settings {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const init = str('init') ?? 'content';
  if (init !== 'noise' && init !== 'content') throw new UsageError(`--init expects noise or content, got '${init}'`);
  const pixels = str('pixels') ?? 'imagenet';
  if (!PIXEL_ENCODINGS.includes(pixels as PixelEncoding)) throw new UsageError(`--pixels expects ${PIXEL_ENCODINGS.join(', ')}, got '${pixels}'`);
  return {
    steps: parseNumberOption('steps', str('steps'), 200, { integer: true, min: 0 }),
    lr: parseNumberOption('lr', str('lr'), 2, { min: 0, exclusiveMin: true }),
    init,
    noise: parseNumberOption('noise', str('noise'), 0.2, { min: 0, max: 1 }),
    seed: parseNumberOption('seed', str('seed'), 0, { integer: true, min: 0 }),
    saveEvery: parseNumberOption('save-every', str('save-every'), 0, { integer: true, min: 0 }),
    pixels: pixels as PixelEncoding,
  };
}

/** The image input a picture goes to: the one whose name mentions `role`, else the only one left. */
function inputFor(graph: ModelGraph, role: 'content' | 'style'): InputNode | undefined {
  const images = graph.inputs.filter((i) => !i.trainable);
  return images.find((i) => i.name.includes(role)) ?? (images.length === 1 && role === 'content' ? images[0] : undefined);
}

function readPicture(path: string, input: InputNode): Float32Array {
  const [height, width, channels] = input.shape;
  if (input.shape.length !== 3 || (channels !== 1 && channels !== 3)) {
    throw new UsageError(`input ${input.name} is ${shapeToString(input.shape)}, not an H x W x 1 or H x W x 3 image`);
  }
  const unit = fitImage(readImageFile(path), height!, width!, channels);
  return unit.map((v) => v * PIXEL_MAX);
}

/** The frozen weights under the model's names (torchvision's through the model's name map). */
async function loadWeights(path: string, graph: ModelGraph, objective: InputObjective): Promise<{ store: Map<string, Float32Array>; note: string }> {
  const { tensors, note } = await readWeightsFor(graph, path);
  return { store: fitWeights(objective.params, tensors, path, `model ${graph.name}`), note };
}

/** The starting pixels: the content picture mixed with uniform noise, or noise alone. */
function startPixels(content: Float32Array | undefined, size: number, s: Settings): Float32Array {
  const rng = Rng.seeded(s.seed);
  const noiseShare = s.init === 'noise' || !content ? 1 : s.noise;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (1 - noiseShare) * (content?.[i] ?? 0) + noiseShare * rng.uniform(0, PIXEL_MAX);
  return out;
}

function progressLine(r: StepReport, started: number): string {
  const elapsed = (performance.now() - started) / 1000;
  const eta = r.step === 0 ? Infinity : (elapsed / r.step) * (r.steps - r.step);
  const width = 24;
  const filled = r.steps === 0 ? width : Math.round((r.step / r.steps) * width);
  const parts = [...r.parts].map(([g, v]) => `J_${g} ${v.toPrecision(5)}`);
  return [`step ${r.step}/${r.steps}`, `[${'='.repeat(filled)}${' '.repeat(width - filled)}]`, `J ${r.loss.toPrecision(5)}`, ...parts, `ETA ${formatDuration(eta)}`].join('  ');
}

/** `--size` sets the model's `height` and `width`: a model without them is told so, not "from --set". */
function requireSizeParameters(file: string, model: string | undefined): void {
  const program = loadProgram(file);
  const decl = model ? program.models.get(model) : rootModels(program)[0];
  if (!decl) return; // compiling reports the missing model
  const params = new Set(decl.params.map((p) => p.name.name));
  const missing = ['height', 'width'].filter((p) => !params.has(p));
  if (missing.length > 0) {
    throw new UsageError(`--size sets the model's height and width parameters; model ${decl.name.name} has no ${missing.join(' or ')} parameter (its picture size is fixed in ${file}; drop --size)`);
  }
}

export async function runStylize(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(STYLIZE, argv);
  expectOneFile(STYLIZE, positionals);
  for (const flag of ['content', 'weights', 'output'] as const) if (!values[flag]) throw new UsageError(`missing --${flag}; see cnnc stylize --help`);
  const settings = settingsOf(values);
  const sets = [...(values.set ?? [])];
  if (values.size) {
    const [h, w] = parseSize('size', values.size);
    requireSizeParameters(positionals[0]!, values.model);
    sets.push(`height=${h}`, `width=${w}`);
  }
  const backend = parseBackend(values.backend);
  const compiled = compileForRun(positionals[0]!, values.model, sets);
  if (!compiled) return EXIT_ERRORS;
  const weights: Partial<Record<LossGroup, number>> = {
    content: values.alpha === undefined ? undefined : parseNumberOption('alpha', values.alpha, 0, { min: 0 }),
    style: values.beta === undefined ? undefined : parseNumberOption('beta', values.beta, 0, { min: 0 }),
  };
  // A model without a trainable input or a content/style term to weight is a ProgramRequestError: a usage error.
  const objective: InputObjective = buildInputObjective(reweightLoss(compiled, weights));
  const graph = compiled;
  const contentInput = inputFor(graph, 'content');
  const styleInput = inputFor(graph, 'style');
  const pictures = new Map<string, Float32Array>();
  if (contentInput) pictures.set(contentInput.name, readPicture(resolve(values.content!), contentInput));
  if (styleInput) {
    if (!values.style) throw new UsageError(`model ${graph.name} reads a style picture (input ${styleInput.name}): pass --style`);
    pictures.set(styleInput.name, readPicture(resolve(values.style), styleInput));
  }
  for (const name of objective.feeds.keys()) {
    if (!pictures.has(name)) throw new UsageError(`model ${graph.name} needs input '${name}', which is neither the content nor the style picture`);
  }
  const { store, note: weightsNote } = await loadWeights(resolve(values.weights!), graph, objective);
  const [, channels, height, width] = objective.input.shape as [number, number, number, number];
  const encoding = encodingOf(settings.pixels, channels);
  const fixed = new Map([...pictures].map(([name, p]) => [name, encodePixels(p, channels, encoding)]));
  const start = startPixels(contentInput ? pictures.get(contentInput.name) : undefined, channels * height * width, settings);

  const out = resolve(values.output!);
  const save = (pixels: Float32Array, path: string): void => writeFileAtomic(path, encodePng({ data: pixels, channels, height, width }, PIXEL_MAX));
  const stepPath = (step: number): string => join(dirname(out), `${basename(out, extname(out))}-${String(step).padStart(4, '0')}.png`);
  const { executor, device, note, close } = await pickExecutor(backend);
  process.stderr.write(`stylize ${graph.name} ${height}x${width} on ${device}${note ? ` (${note})` : ''}: Adam lr ${settings.lr}, ${settings.steps} steps, init ${settings.init}${settings.init === 'content' ? ` + ${settings.noise * 100}% noise` : ''}, seed ${settings.seed}\n`);
  process.stderr.write(`weights ${weightsNote}\n`);
  const started = performance.now();
  const tty = Boolean(process.stderr.isTTY);
  let [firstJ, lastJ] = [NaN, NaN];
  try {
    const pixels = await optimizeInput(objective, executor, store, fixed, start, {
      steps: settings.steps,
      lr: settings.lr,
      encoding,
      onStep: (r) => {
        if (r.step === 0) firstJ = r.loss;
        lastJ = r.loss;
        const line = progressLine(r, started);
        const logEvery = Math.max(1, Math.round(r.steps / 10));
        if (tty) process.stderr.write(`\r${line}\x1b[K${r.step === r.steps ? '\n' : ''}`);
        else if (r.step % logEvery === 0 || r.step === r.steps) process.stderr.write(`${line}\n`);
        if (settings.saveEvery > 0 && r.step > 0 && r.step < r.steps && r.step % settings.saveEvery === 0) save(r.pixels, stepPath(r.step));
      },
    });
    save(pixels, out);
  } finally {
    close();
  }
  process.stdout.write(`J ${firstJ.toPrecision(5)} -> ${lastJ.toPrecision(5)} in ${formatDuration((performance.now() - started) / 1000)}; wrote ${values.output}\n`);
  return EXIT_OK;
}
