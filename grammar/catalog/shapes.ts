// CNN3xx: shapes (sizes below 1, floored output sizes, shapes that must agree, ranks, dense on an
// image, loss terms that do not fit). Tensors are named with their shape and the layer that makes
// them (`28x28x6 from maxpool_2`), so every message says which numbers failed.

import { describeTensor, exampleModel, formatShape, message, type CodeEntry, type TensorRef } from './entry.ts';

const sameSizes = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const RANK_NAMES: Readonly<Record<number, string>> = { 1: 'L x C', 2: 'H x W x C', 3: 'D x H x W x C' };
const VECTOR_HAS_NO_SPACE = 'a vector has no spatial axes; reshape it first';

/** What differs between two tensors `add` was given: rank, or spatial size and channels. */
function addDifference(a: readonly number[], b: readonly number[]): string {
  if (a.length !== b.length) return `rank ${a.length} vs ${b.length}`;
  const parts: string[] = [];
  if (!sameSizes(a.slice(0, -1), b.slice(0, -1))) parts.push(`spatial ${formatShape(a.slice(0, -1))} vs ${formatShape(b.slice(0, -1))}`);
  if (a[a.length - 1] !== b[b.length - 1]) parts.push(`channels ${a[a.length - 1]} vs ${b[b.length - 1]}`);
  return parts.join(', ');
}

/** A residual add of mismatched shapes is fixed by projecting the shortcut, as ResNet's convolutional block does. */
function projectShortcut(a: readonly number[], b: readonly number[]): string | undefined {
  if (a.length !== b.length || a.length < 2) return undefined;
  const stride = (b[0] ?? 0) / (a[0] ?? 1);
  const strideText = Number.isInteger(stride) && stride > 1 ? `, stride ${stride}` : '';
  return `project the shortcut with \`conv ${a[a.length - 1]}, 1x1${strideText}\` (a convolutional block) so that it becomes ${formatShape(a)}`;
}

export const SHAPES = {
  nonPositiveSize: {
    code: 'CNN300',
    severity: 'error',
    title: 'A size of zero or less.',
    example: { source: 'model M {\n  input x: 28 x 28 x 0\n}\n' },
    messages: {
      inputSizes: message((p: { sizes: readonly number[] }) => `input sizes must be positive, got ${p.sizes.join('x')}`),
      /** `what`: the layer as written; `arithmetic`: the output-size rule with its numbers; `padding`: both sides together. */
      window: message(
        (p: { what: string; input: TensorRef; axis: string; arithmetic: string; size: number; padding: number; window: number }) =>
          `${p.what} on ${describeTensor(p.input)} gives ${p.axis} ${p.arithmetic}, below 1`,
        (p) => `the input's ${p.axis} ${p.size} (with padding ${p.padding}) is smaller than the ${p.window}-wide window; pad it or use a smaller kernel`,
      ),
      transposed: message(
        (p: { op: string; input: TensorRef; axis: string; arithmetic: string; pad: number; kernel: number }) => `${p.op} on ${describeTensor(p.input)} gives ${p.axis} ${p.arithmetic}, below 1`,
        (p) => `the padding ${p.pad} removes more than the ${p.kernel}-wide kernel adds; use a smaller pad`,
      ),
    },
  },
  fractionalSize: {
    code: 'CNN301',
    severity: 'warning',
    title: 'The output-size rule gives a fraction, floored: the last rows or columns are never read.',
    example: { source: 'model M {\n  input x: 6 x 6 x 1\n  conv 1, 5x5, stride 2\n}\n' },
    messages: {
      /** `fractional`: the axes whose rule gives a fraction; `out`: the floored size; `unread`: positions never read per fractional axis. */
      floored: message(
        (p: { what: string; spatial: readonly number[]; fractional: readonly { axis: string; arithmetic: string }[]; out: readonly number[]; unread: readonly number[] }) =>
          `${p.what} on ${formatShape(p.spatial)}: ${p.fractional.map((f) => `${f.axis} ${f.arithmetic}`).join(', ')}, floored to ${p.out.join('x')}; the last ${p.unread.join('/')} input position(s) along ${p.fractional.map((f) => f.axis).join(' and ')} are never read`,
        () => 'pad so that n + 2p - f is a multiple of the stride, use `pad same`, or write `round floor` to accept the floor',
      ),
    },
  },
  shapeMismatch: {
    code: 'CNN302',
    severity: 'error',
    title: 'Shapes that must agree do not (add, concat, reshape).',
    example: { source: exampleModel('  a = conv 8, 3x3\n  b = x -> conv 8, 5x5\n  add(a, b)') },
    messages: {
      add: message(
        (p: { first: TensorRef; other: TensorRef }) => `cannot add ${describeTensor(p.first)} and ${describeTensor(p.other)}: ${addDifference(p.first.shape, p.other.shape)}`,
        (p) => projectShortcut(p.first.shape, p.other.shape),
      ),
      subtract: message((p: { a: TensorRef; b: TensorRef }) => `cannot subtract ${describeTensor(p.b)} from ${describeTensor(p.a)}: the shapes differ`),
      concat: message(
        (p: { first: TensorRef; other: TensorRef }) => {
          const [a, b] = [p.first.shape.slice(0, -1), p.other.shape.slice(0, -1)];
          const difference = a.length === b.length ? `spatial ${formatShape(a)} vs ${formatShape(b)}` : `rank ${p.first.shape.length} vs ${p.other.shape.length}`;
          return `cannot concatenate ${describeTensor(p.first)} and ${describeTensor(p.other)} along channels: ${difference}`;
        },
        (p) => {
          const [a, b] = [p.first.shape.slice(0, -1), p.other.shape.slice(0, -1)];
          return a.length === 2 && b.length === 2 && a[0] === 2 * (b[0] ?? 0) ? `bring ${p.first.name} down with \`space_to_depth 2\` or a stride-2 layer` : undefined;
        },
      ),
      reshape: message((p: { input: TensorRef; shape: readonly number[] }) => `cannot reshape ${describeTensor(p.input)} (${count(p.input.shape)} values) to ${formatShape(p.shape)} (${count(p.shape)} values)`),
      spaceToDepth: message(
        (p: { block: number; height: number; width: number }) => `space_to_depth ${p.block}: ${p.height}x${p.width} is not divisible by ${p.block}`,
        (p) => `pad the input to a multiple of ${p.block} first`,
      ),
    },
  },
  wrongRank: {
    code: 'CNN303',
    severity: 'error',
    title: 'A layer gets a tensor with the wrong number of axes.',
    example: { source: exampleModel('  flatten\n  maxpool 2x2') },
    messages: {
      /** `conv2d` on a tensor of another rank: the hint names the layer that fits it. */
      spatialRank: message(
        (p: { op: string; want: number; input: TensorRef }) => `${p.op} expects ${RANK_NAMES[p.want]}, got ${describeTensor(p.input)}`,
        (p) => (p.input.shape.length === 1 ? VECTOR_HAS_NO_SPACE : `use ${p.op.replace(/[123]d$/, `${p.input.shape.length - 1}d`)} for a ${formatShape(p.input.shape)} input`),
      ),
      anySpatialRank: message(
        (p: { op: string; input: TensorRef }) => `${p.op} expects L x C, H x W x C or D x H x W x C, got ${describeTensor(p.input)}`,
        (p) => (p.input.shape.length === 1 ? VECTOR_HAS_NO_SPACE : undefined),
      ),
      needsSpatial: message((p: { op: string; input: TensorRef }) => `${p.op} needs spatial axes, got ${describeTensor(p.input)}`),
      spaceToDepth: message((p: { input: TensorRef }) => `space_to_depth expects H x W x C, got ${describeTensor(p.input)}`),
      batchnorm: message((p: { input: TensorRef }) => `batchnorm needs a channel axis, got ${describeTensor(p.input)}`),
    },
  },
  denseNeedsVector: {
    code: 'CNN304',
    severity: 'error',
    title: '`dense` gets an image; flatten it first.',
    example: { source: exampleModel('  dense 10') },
    messages: {
      image: message(
        (p: { input: TensorRef }) => `dense expects a vector, got ${describeTensor(p.input)}`,
        (p) => `insert \`flatten\` before it (${formatShape(p.input.shape)} flattens to ${count(p.input.shape)})`,
        () => 'Insert `flatten` before dense',
      ),
    },
  },
  lossShape: {
    code: 'CNN305',
    severity: 'error',
    title: 'A loss term that does not fit what it scores.',
    example: { source: exampleModel('  flatten\n  dense 10 -> softmax\n  loss cross_entropy(x)') },
    messages: {
      sameShape: message((p: { loss: string; first: TensorRef; other: TensorRef }) => `${p.loss} needs tensors of one shape, got ${describeTensor(p.first)} and ${describeTensor(p.other)}`),
      /** `layout`: what the loss reads, in words (`a vector of class scores`). */
      rank: message((p: { loss: string; layout: string; got: TensorRef }) => `${p.loss} expects ${p.layout}, got ${describeTensor(p.got)}`),
      localization: message(
        (p: { classes: number; got: number; from: string }) => `localization expects 5 + ${p.classes} values (pc, bx, by, bh, bw and the classes), got ${p.got} from ${p.from}`,
      ),
      yoloAnchors: message(
        (p: { anchors: readonly number[] }) => `yolo anchors are positive width x height pairs in grid cells, got ${p.anchors.join(' x ') || 'none'}`,
        () => 'write `anchors 1.2 x 1.5 x 3 x 2.8` (two anchors)',
      ),
      yoloChannels: message(
        (p: { anchors: number; classes: number; got: number; from: string }) =>
          `yolo with ${p.anchors} anchors and ${p.classes} classes needs ${p.anchors}*(5 + ${p.classes}) = ${p.anchors * (5 + p.classes)} channels, got ${p.got} from ${p.from}`,
        (p) => `end the network with \`conv ${p.anchors * (5 + p.classes)}, 1x1\``,
      ),
      termProduct: message(() => 'a loss is a weighted sum of terms; two terms cannot be multiplied'),
      termDivisor: message(() => 'a loss term cannot be a divisor'),
      notATerm: message(() => 'expected a loss term such as cross_entropy or 0.3 * cross_entropy(aux)'),
      noOutput: message((p: { loss: string }) => `${p.loss} has nothing to apply to: the model has no output`),
    },
  },
} as const satisfies Record<string, CodeEntry>;
