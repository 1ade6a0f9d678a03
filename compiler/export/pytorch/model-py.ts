// model.py for `cnnc export --to pytorch`: an nn.Module whose state_dict names and layouts are
// cnnc's (`stem.conv1.weight`, OIHW), so weights go both ways as safetensors. One line per layer
// in values(), keyed by cnnc's layer names; loss() computes the model's loss as cnnc does.

import type { LayerNode, LossTerm, ModelGraph } from '../../graph.ts';
import { definitionOf } from '../../layers/index.ts';
import { irShape } from '../../lower/layout.ts';
import { UserError } from '../../../grammar/user-error.ts';

export class PytorchExportError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PytorchExportError';
  }
}

const py = (value: unknown): string => {
  if (typeof value === 'string') {
    const text = value.replace(/\\/g, '\\\\');
    return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text.replace(/'/g, "\\'")}'`;
  }
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.length === 1 ? `(${py(value[0])},)` : `(${value.map(py).join(', ')})`;
  throw new PytorchExportError(`no Python literal for ${String(value)}`);
};

const v = (name: string): string => `v[${py(name)}]`;

/** Losses with a PyTorch form here. */
const TORCH_LOSSES = ['cross_entropy', 'binary_cross_entropy', 'mse', 'triplet', 'localization', 'content', 'style'];

/** One loss term as PyTorch computes it; `t` holds the batch's targets by name. */
function lossTerm(term: LossTerm, graph: ModelGraph): string {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const arg = (i: number): string => v(term.args[i]!);
  const target = term.target ? `t[${py(term.target.name)}]` : undefined;
  const ref = term.args.length >= 2 ? arg(1) : target;
  switch (term.fn) {
    case 'cross_entropy': {
      const layer = byName.get(term.args[0]!);
      return layer?.attrs.op === 'softmax' ? `F.cross_entropy(${v(layer.inputs[0]!)}, ${target})` : `F.nll_loss(torch.log(${arg(0)}), ${target})`;
    }
    case 'binary_cross_entropy':
      return `F.binary_cross_entropy(${arg(0)}, ${target})`;
    case 'mse':
      return `F.mse_loss(${arg(0)}, ${ref})`;
    case 'triplet':
      return `triplet(${arg(0)}, ${arg(1)}, ${arg(2)}, ${term.options.alpha ?? 0.2})`;
    case 'localization':
      return `localization(${arg(0)}, ${target})`;
    case 'content':
      return `content(${arg(0)}, ${ref})`;
    case 'style':
      return `style(${arg(0)}, ${ref})`;
    default:
      throw new PytorchExportError(`the loss '${term.fn}' has no PyTorch form in this export`);
  }
}

const HELPERS = `def space_to_depth(x, b):
    """Blocks of b x b pixels to channels, ordered (row offset, column offset, channel)."""
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
    return y.reshape(n, b * b * c, h // b, w // b)


def triplet(a, p, n, alpha):
    """max(||a - p||^2 - ||a - n||^2 + alpha, 0), averaged over the batch."""
    return F.relu(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + alpha).mean()


def localization(y, t):
    """Logistic loss of pc, plus (for objects) squared box errors and the classes' cross-entropy."""
    pc = t[:, 0]
    obj = F.binary_cross_entropy_with_logits(y[:, 0], pc, reduction='none')
    box = ((y[:, 1:5] - t[:, 1:5]) ** 2).sum(1)
    cls = F.cross_entropy(y[:, 5:], t[:, 5:], reduction='none')
    return (obj + pc * (box + cls)).mean()


def content(g, c):
    """The content cost: sum (c - g)^2 / (4 n_H n_W n_C), averaged over the batch."""
    return ((c - g) ** 2).sum() / (4 * g[0].numel()) / g.shape[0]


def gram(x):
    f = x.reshape(x.shape[0], x.shape[1], -1)
    return f @ f.transpose(1, 2)


def style(g, s):
    """The style cost of one layer: squared Gram differences / (2 n_C n_H n_W)^2, per example."""
    c, hw = g.shape[1], g[0, 0].numel()
    return ((gram(s) - gram(g)) ** 2).sum() / (4 * c * c * hw * hw) / g.shape[0]
`;

/** Python attribute paths for dotted names: `stem.conv1` -> `self.stem.conv1`. */
function modulePath(name: string): string {
  return `self.${name}`;
}

/** A layer's module name: its weights' prefix (`encoder.conv` for a shared tower's `a.conv`). */
function moduleName(owner: LayerNode): string {
  const first = owner.params[0]?.name;
  return first === undefined ? owner.name : first.slice(0, first.lastIndexOf('.'));
}

/** The text of model.py. */
export function modelPy(graph: ModelGraph, source: string): string {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const trainableInputs = graph.inputs.filter((i) => i.trainable);
  if (trainableInputs.length > 0) {
    throw new PytorchExportError(`model ${graph.name} trains its input '${trainableInputs[0]!.name}' (style transfer), which this export does not carry; export it to ONNX for inference`);
  }
  const init: string[] = [];
  const scopes = new Set<string>();
  const body: string[] = [];
  const frozen: string[] = [];
  for (const layer of graph.layers) {
    const owner = byName.get(layer.paramOwner) ?? layer;
    const name = moduleName(owner);
    // Each layer's line is its definition's PyTorch form.
    const emit = definitionOf(layer.attrs).pytorch(
      {
        layer,
        x: v(layer.inputs[0] ?? ''),
        inputs: layer.inputs.map(v),
        m: modulePath(name),
        py,
        refuse: (message) => {
          throw new PytorchExportError(message);
        },
      },
      layer.attrs,
    );
    if (emit.module && owner === layer) {
      const parts = name.split('.');
      for (let i = 1; i < parts.length; i++) {
        const scope = parts.slice(0, i).join('.');
        if (!scopes.has(scope)) init.push(`        ${modulePath(scope)} = Scope()`);
        scopes.add(scope);
      }
      init.push(`        ${modulePath(name)} = ${emit.module}`);
      if (layer.frozen) frozen.push(name);
    }
    body.push(`        ${v(layer.name)} = ${emit.value}`);
  }
  const inputs = graph.inputs.map((i) => i.name);
  const targets = [...new Map(graph.loss.filter((t) => t.target).map((t) => [t.target!.name, t.target!] as const)).values()];
  const className = /^[A-Za-z_]\w*$/.test(graph.name) ? graph.name : 'Model';
  // A loss without a PyTorch form leaves the module usable for inference and weights; loss() says why it cannot train.
  const missing = graph.loss.find((t) => !TORCH_LOSSES.includes(t.fn));
  const lossBody = missing
    ? `raise NotImplementedError(${py(`the loss '${missing.fn}' has no PyTorch form in cnnc's export (it writes ${TORCH_LOSSES.join(', ')})`)})`
    : graph.loss.length > 0 ? `return ${graph.loss.map((t) => `${t.weight} * ${lossTerm(t, graph)}`).join(' + \\\n            ')}` : 'return None';
  const outputs = graph.outputs.map(v);
  const lines = [
    `"""${graph.name} from ${source}, exported by cnnc (\`cnnc export --to pytorch\`).`,
    '',
    ...(graph.doc ? [...graph.doc.split('\n'), ''] : []),
    "State_dict names and layouts are cnnc's (conv weights OIHW, dense [out, in]), so weights move",
    'both ways as safetensors. Tensors are NCHW with the batch first.',
    '"""',
    '',
    'import torch',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    '',
    '# Per example, batch left out: model inputs (NCHW) and the targets the loss reads.',
    `INPUTS = {${graph.inputs.map((i) => `${py(i.name)}: ${py(irShape(i.shape, 1).slice(1))}`).join(', ')}}`,
    `TARGETS = {${targets.map((t) => `${py(t.name)}: (${py(t.shape.length <= 1 ? t.shape : irShape(t.shape, 1).slice(1))}, ${py(t.dtype === 'i32' ? 'int64' : 'float32')})`).join(', ')}}`,
    `OUTPUTS = [${graph.outputs.map(py).join(', ')}]`,
    `LOSSES = [${graph.loss.map((t) => py(t.fn)).join(', ')}]`,
    '',
    '',
    'class Scope(nn.Module):',
    '    """The layers of one block instance (`stem.conv1` lives in the scope `stem`)."""',
    '',
    '',
    HELPERS,
    '',
    `class ${className}(nn.Module):`,
    `    def __init__(self):`,
    '        super().__init__()',
    ...(init.length > 0 ? init : ['        pass']),
    ...frozen.map((n) => `        ${modulePath(n)}.requires_grad_(False)`),
    '',
    `    def values(self, ${inputs.join(', ')}):`,
    '        """Every layer\'s value, by its cnnc name."""',
    `        v = {${inputs.map((n) => `${py(n)}: ${n}`).join(', ')}}`,
    ...body,
    '        return v',
    '',
    `    def forward(self, ${inputs.join(', ')}):`,
    `        v = self.values(${inputs.join(', ')})`,
    `        return ${outputs.length === 1 ? outputs[0] : `(${outputs.join(', ')})`}`,
    '',
    '    def loss(self, v, t):',
    '        """The model\'s loss from values() and the batch\'s targets `t`, as cnnc computes it."""',
    `        ${lossBody}`,
    '',
    '',
    `MODEL = ${className}`,
    '',
  ];
  return lines.join('\n');
}
