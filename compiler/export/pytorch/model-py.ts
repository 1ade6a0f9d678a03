// model.py for `cnnc export --to pytorch`: an nn.Module whose state_dict names and layouts are
// cnnc's (`stem.conv1.weight`, OIHW), so weights go both ways as safetensors. One line per layer
// in values(), keyed by cnnc's layer names; loss() computes the model's loss as cnnc does.

import { ancestorsOf, type LayerNode, type LossTerm, type ModelGraph, type Shape } from '../../graph.ts';
import { definitionOf } from '../../layers/index.ts';
import { irShape } from '../../lower/layout.ts';
import { UserError } from '../../../grammar/user-error.ts';
import { YAD2K_COCO_ANCHORS } from '../../checker/loss.ts';
import { PROBABILITY_EPS } from '../../lower/losses.ts';

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

/**
 * One loss term as PyTorch computes it, term for term as compiler/lower/losses.ts lowers it; `v`
 * holds the values, `t` the batch's targets by name. Every loss of compiler/checker/loss.ts has a
 * case (test/export/pytorch.test.ts checks that each is exported and matches cnnc's gradients).
 */
function lossTerm(term: LossTerm, graph: ModelGraph): string {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const arg = (i: number): string => v(term.args[i]!);
  const target = term.target ? `t[${py(term.target.name)}]` : undefined;
  const ref = term.args.length >= 2 ? arg(1) : target;
  /** The logits `activation` was applied to, when the argument is that activation's layer (cnnc fuses them). */
  const logitsOf = (activation: 'softmax' | 'sigmoid'): string | undefined => {
    const layer = byName.get(term.args[0]!);
    return layer?.attrs.op === activation ? v(layer.inputs[0]!) : undefined;
  };
  switch (term.fn) {
    case 'cross_entropy': {
      const logits = logitsOf('softmax');
      return logits ? `F.cross_entropy(${logits}, ${target})` : `F.nll_loss(safe_log(${arg(0)}), ${target})`;
    }
    case 'binary_cross_entropy': {
      const logits = logitsOf('sigmoid');
      return logits ? `F.binary_cross_entropy_with_logits(${logits}, ${target})` : `binary_cross_entropy(${arg(0)}, ${target})`;
    }
    case 'mse':
      return `F.mse_loss(${arg(0)}, ${ref})`;
    case 'triplet':
      return `triplet(${arg(0)}, ${arg(1)}, ${arg(2)}, ${term.options.alpha ?? 0.2})`;
    case 'localization':
      return `localization(${arg(0)}, ${target})`;
    case 'yolo':
      return `yolo(${arg(0)}, ${target}, ${py(term.lists?.anchors ?? YAD2K_COCO_ANCHORS)})`;
    case 'content':
      return `content(${arg(0)}, ${ref})`;
    case 'style':
      // Against a second tensor its Gram matrix; a target is one already.
      return term.args.length >= 2 ? `style(${arg(0)}, gram(${arg(1)}))` : `style(${arg(0)}, ${target})`;
    case 'total_variation':
      return `total_variation(${arg(0)})`;
    case 'l2':
      return `l2(${l2Weights(graph).map(modulePath).join(', ')})`;
    default:
      throw new PytorchExportError(`the loss '${term.fn}' has no PyTorch form in this export`);
  }
}

/**
 * Whether some trainable tensor gets no gradient from the loss (a head the loss does not read):
 * DistributedDataParallel must then be told to look for unused parameters.
 */
function hasParametersOutsideLoss(graph: ModelGraph): boolean {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
  const reached = ancestorsOf(graph, graph.loss.flatMap((t) => [...t.args]));
  const owners = new Set([...reached].map((n) => byName.get(n)?.paramOwner));
  // l2 reads every trainable kernel, wherever it is.
  const l2 = graph.loss.some((t) => t.fn === 'l2');
  const unusedParam = graph.layers.some((l) => !owners.has(l.name) && l.params.some((p) => p.trainable && !(l2 && p.role === 'weight')));
  return unusedParam || graph.inputs.some((i) => i.trainable && !reached.has(i.name));
}

/** The weights `l2` sums over, as cnnc's: trainable conv and dense kernels (no biases, no batchnorm), each once. */
function l2Weights(graph: ModelGraph): string[] {
  return [...new Set(graph.layers.flatMap((l) => l.params.filter((p) => p.role === 'weight' && p.trainable).map((p) => p.name)))];
}

const HELPERS = `def space_to_depth(x, b):
    """Blocks of b x b pixels to channels, ordered (row offset, column offset, channel)."""
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
    return y.reshape(n, b * b * c, h // b, w // b)


def safe_log(p):
    """log(p) with p kept at least ${PROBABILITY_EPS}: a probability of 0 gives a large loss, not inf."""
    return torch.log(p.clamp_min(${PROBABILITY_EPS}))


def binary_cross_entropy(p, t):
    """-(t log p + (1 - t) log(1 - p)), averaged, for probabilities no sigmoid layer made."""
    return -(t * safe_log(p) + (1 - t) * safe_log(1 - p)).mean()


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


def style(g, gs):
    """The style cost of one layer against the Gram matrices gs: squared differences / (2 n_C n_H n_W)^2, per example."""
    c, hw = g.shape[1], g[0, 0].numel()
    return ((gs - gram(g)) ** 2).sum() / (4 * c * c * hw * hw) / g.shape[0]


def total_variation(x):
    """Squared differences of neighbours along every spatial axis, summed, per example."""
    total = x.new_zeros(())
    for axis in range(2, x.dim()):
        if x.shape[axis] >= 2:
            total = total + ((x.narrow(axis, 1, x.shape[axis] - 1) - x.narrow(axis, 0, x.shape[axis] - 1)) ** 2).sum()
    return total / x.shape[0]


def l2(*weights):
    """L2 weight decay: the sum of squares of the given weights."""
    total = torch.zeros(())
    for w in weights:
        total = total + (w ** 2).sum()
    return total


def yolo(y, t, anchors):
    """YOLOv2's loss as YAD2K trains it (cnnc's compiler/lower/yolo-loss.ts). y and t are
    [N, A (5 + C), H, W]; per anchor y holds [to, tx, ty, tw, th, classes], t holds [mask, x - col,
    y - row, log(w / anchor w), log(h / anchor h), one-hot class]. Object scale 5, no-object 1
    (not charged where the predicted box overlaps a true box by IoU > 0.6), class 1, coordinates 1;
    halved, summed, averaged over the batch."""
    n, _, h, w = y.shape
    a = len(anchors) // 2
    ys, ts = y.reshape(n, a, -1, h * w), t.reshape(n, a, -1, h * w)
    conf, txy, twh = torch.sigmoid(ys[:, :, 0:1]), torch.sigmoid(ys[:, :, 1:3]), ys[:, :, 3:5]
    probs = torch.softmax(ys[:, :, 5:], 2)
    mask = ts[:, :, 0:1]
    col = torch.arange(w, dtype=y.dtype, device=y.device).repeat(h)
    row = torch.arange(h, dtype=y.dtype, device=y.device).repeat_interleave(w)
    aw = torch.tensor(anchors[0::2], dtype=y.dtype, device=y.device).view(1, a, 1, 1)
    ah = torch.tensor(anchors[1::2], dtype=y.dtype, device=y.device).view(1, a, 1, 1)

    def corners(xy, wh):
        cx, cy = xy[:, :, 0:1] + col, xy[:, :, 1:2] + row
        bw, bh = torch.exp(wh[:, :, 0:1]) * aw, torch.exp(wh[:, :, 1:2]) * ah
        return [c.reshape(n, -1) for c in (cx - 0.5 * bw, cy - 0.5 * bh, cx + 0.5 * bw, cy + 0.5 * bh, bw * bh)]

    with torch.no_grad():  # a comparison: no gradient flows through it
        px1, py1, px2, py2, parea = (c[:, :, None] for c in corners(txy, twh))
        tx1, ty1, tx2, ty2, tarea = (c[:, None, :] for c in corners(ts[:, :, 1:3], ts[:, :, 3:5]))
        inter = (torch.minimum(px2, tx2) - torch.maximum(px1, tx1)).relu() * (torch.minimum(py2, ty2) - torch.maximum(py1, ty1)).relu()
        iou = inter / (parea + tarea - inter) * mask.reshape(n, 1, -1)
        seen = ((iou - 0.6 > 0).to(y.dtype).sum(2) > 0).to(y.dtype).reshape(n, a, 1, h * w)
    confidence = 5 * mask * (1 - conf) ** 2 + (1 - seen) * (1 - mask) * conf ** 2
    cls = mask * (ts[:, :, 5:] - probs) ** 2
    coords = mask * ((txy - ts[:, :, 1:3]) ** 2 + (twh - ts[:, :, 3:5]) ** 2)
    return (confidence.sum() + cls.sum() + coords.sum()) * 0.5 / n
`;

/** Names cnnc allows that Python reserves (keywords), or that model.py's own code uses. */
const PY_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield']);
const PY_TAKEN = new Set([...PY_KEYWORDS, 'self', 'v', 't', 'torch', 'nn', 'F']);

/** The Python argument for a model input: its name, or `name_` where Python or model.py has it. */
const argName = (name: string): string => (PY_TAKEN.has(name) ? `${name}_` : name);

/** Python attribute paths for dotted names: `stem.conv1` -> `self.stem.conv1`; a keyword segment through getattr. */
function modulePath(name: string): string {
  return name.split('.').reduce((path, seg) => (PY_KEYWORDS.has(seg) ? `getattr(${path}, ${py(seg)})` : `${path}.${seg}`), 'self');
}

/** `self.a.b = value`, or setattr where the last segment is a Python keyword. */
function assignModule(name: string, value: string): string {
  const at = name.lastIndexOf('.');
  const last = name.slice(at + 1);
  if (!PY_KEYWORDS.has(last)) return `${modulePath(name)} = ${value}`;
  return `setattr(${at < 0 ? 'self' : modulePath(name.slice(0, at))}, ${py(last)}, ${value})`;
}

/** A layer's module name: its weights' prefix (`encoder.conv` for a shared tower's `a.conv`). */
function moduleName(owner: LayerNode): string {
  const first = owner.params[0]?.name;
  return first === undefined ? owner.name : first.slice(0, first.lastIndexOf('.'));
}

/** The text of model.py. */
export function modelPy(graph: ModelGraph, source: string): string {
  const byName = new Map(graph.layers.map((l) => [l.name, l] as const));
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
      },
      layer.attrs,
    );
    if (emit.module && owner === layer) {
      const parts = name.split('.');
      for (let i = 1; i < parts.length; i++) {
        const scope = parts.slice(0, i).join('.');
        if (!scopes.has(scope)) init.push(`        ${assignModule(scope, 'Scope()')}`);
        scopes.add(scope);
      }
      init.push(`        ${assignModule(name, emit.module)}`);
      if (layer.frozen) frozen.push(name);
    }
    body.push(`        ${v(layer.name)} = ${emit.value}`);
  }
  // A trainable input (style transfer's generated image) is a parameter of the module, as it is
  // a tensor of cnnc's weight files: [1, C, H, W] under the input's name, the same for every
  // example of a batch. The inputs forward() takes are the others.
  const fed = graph.inputs.filter((i) => !i.trainable);
  const trained = graph.inputs.filter((i) => i.trainable);
  const inputs = fed.map((i) => i.name);
  const args = inputs.map(argName).join(', ');
  const perExample = (shape: Shape): number[] => irShape(shape, 1).slice(1);
  const trainedValues = trained.map((i) => {
    const param = modulePath(i.name);
    const value = fed.length > 0 ? `${param}.expand(${argName(fed[0]!.name)}.shape[0], *${param}.shape[1:])` : param;
    return `        ${v(i.name)} = ${value}`;
  });
  const targets = [...new Map(graph.loss.filter((t) => t.target).map((t) => [t.target!.name, t.target!] as const)).values()];
  const className = /^[A-Za-z_]\w*$/.test(graph.name) ? graph.name : 'Model';
  const lossBody = graph.loss.length > 0 ? `return ${graph.loss.map((t) => `${t.weight === 1 ? '' : `${t.weight} * `}${lossTerm(t, graph)}`).join(' + \\\n            ')}` : 'return None';
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
    `INPUTS = {${fed.map((i) => `${py(i.name)}: ${py(perExample(i.shape))}`).join(', ')}}`,
    '# Inputs the model trains (parameters of the module, [1, C, H, W], under their names).',
    `TRAINED_INPUTS = {${trained.map((i) => `${py(i.name)}: ${py(perExample(i.shape))}`).join(', ')}}`,
    `TARGETS = {${targets.map((t) => `${py(t.name)}: (${py(t.shape.length <= 1 ? t.shape : irShape(t.shape, 1).slice(1))}, ${py(t.dtype === 'i32' ? 'int64' : 'float32')})`).join(', ')}}`,
    `OUTPUTS = [${graph.outputs.map(py).join(', ')}]`,
    `LOSSES = [${graph.loss.map((t) => py(t.fn)).join(', ')}]`,
    '# Whether some trainable tensor gets no gradient from the loss (train.py tells DDP to look for them).',
    `PARAMETERS_OUTSIDE_LOSS = ${py(hasParametersOutsideLoss(graph))}`,
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
    ...trained.map((i) => `        ${assignModule(i.name, `nn.Parameter(torch.zeros(1, ${perExample(i.shape).join(', ')}))`)}`),
    ...(init.length > 0 || trained.length > 0 ? init : ['        pass']),
    ...frozen.map((n) => `        ${modulePath(n)}.requires_grad_(False)`),
    '',
    `    def values(self, ${args}):`,
    '        """Every layer\'s value, by its cnnc name."""',
    `        v = {${inputs.map((n) => `${py(n)}: ${argName(n)}`).join(', ')}}`,
    ...trainedValues,
    ...body,
    '        return v',
    '',
    `    def forward(self, ${args}):`,
    `        v = self.values(${args})`,
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
