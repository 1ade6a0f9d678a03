// Generates a very deep, plain `.cnn` model for front-end speed: a stack of conv / batchnorm / relu
// layers, one per line, that keeps a valid shape at every depth (3x3 convs with `pad same` keep
// H x W, the filter count is constant) and ends in a classifier so the model has a loss.

export interface DeepModelOptions {
  /** Layers in the repeated stack (conv, batchnorm and relu each count as one). At least 1. */
  readonly layers: number;
  readonly name?: string;
  /** Spatial size of the square input; small keeps the shape arithmetic cheap and realistic. */
  readonly size?: number;
  readonly filters?: number;
}

const CYCLE = ['conv', 'batchnorm', 'relu'] as const;

/** The `.cnn` text and the number of layer lines it holds (the stack plus the 2-layer classifier). */
export function deepModelSource(options: DeepModelOptions): { readonly text: string; readonly layerLines: number } {
  const { layers, name = `Deep${layers}`, size = 8, filters = 8 } = options;
  if (!Number.isInteger(layers) || layers < 1) throw new Error(`layers must be a positive integer, got ${layers}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`model name must be an identifier, got '${name}'`);
  const lines = [`/// ${layers} plain layers for the front-end benchmark (generated).`, `model ${name} {`];
  lines.push(`  input image: ${size} x ${size} x 3`);
  for (let i = 0; i < layers; i++) {
    const kind = CYCLE[i % CYCLE.length];
    lines.push(kind === 'conv' ? `  conv ${filters}, 3x3, pad same` : `  ${kind}`);
  }
  lines.push('  global_avgpool', '  dense 10 -> softmax', '  loss cross_entropy', '}', '');
  return { text: lines.join('\n'), layerLines: layers + 2 };
}
