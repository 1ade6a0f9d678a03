// The `channels` directive of a name-map rule: another framework may order a layer's output
// channels differently within repeating groups. YAD2K's YOLOv2 computes per anchor
// [tx, ty, tw, th, to, c1..c80] in groups of 85, cnnc's yolo loss and decoder read
// [to, tx, ty, tw, th, c1..cC], so stdlib/yolo.names says
//
//   conv2d_23   conv23   channels 4 0 1 2 3 per 85
//
// In each group of 85 output channels, cnnc's channel k takes the file's channel perm[k] for the
// listed positions k = 0..4; the channels after them keep their place. Every tensor the rule maps
// is reordered along its first axis (the output channels, once a Keras kernel is in PyTorch's
// layout [out, in, kh, kw]): a convolution's or dense layer's weight and bias, a batchnorm's vectors.

import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';
import { elementCount, type HostTensor } from '../tensor.ts';

export class ChannelOrderError extends UserError {
  override readonly kind: UserErrorKind = 'data';
  constructor(message: string) {
    super(message);
    this.name = 'ChannelOrderError';
  }
}

export interface ChannelOrder {
  /** perm[k]: the file's channel that becomes channel k of each group; later channels keep their place. */
  readonly perm: readonly number[];
  /** Channels per group. */
  readonly group: number;
  /** `file:line` of the rule: errors name it. */
  readonly where: string;
}

export const CHANNELS_SYNTAX = 'channels P0 P1 .. per G';

function count(word: string | undefined): number | undefined {
  return word !== undefined && /^\d+$/.test(word) ? Number(word) : undefined;
}

/** Reads `channels P0 P1 .. per G` (the words after a rule's FROM and TO). Errors name `where`. */
export function parseChannelOrder(words: readonly string[], where: string): ChannelOrder {
  // Annotated, so that TypeScript narrows after a call (`never` ends the path).
  const fail: (problem: string) => never = (problem) => {
    throw new ChannelOrderError(`${where}: ${problem} (the directive is '${CHANNELS_SYNTAX}')`);
  };
  const text = words.join(' ');
  if (words[0] !== 'channels' || words[words.length - 2] !== 'per') fail(`'${text}' does not end in 'per G'`);
  const group = count(words[words.length - 1]);
  if (group === undefined || group === 0) fail(`the group size must be a positive whole number, got '${words[words.length - 1] ?? ''}'`);
  const listed = words.slice(1, -2);
  if (listed.length === 0) fail(`'${text}' lists no channels`);
  const perm = listed.map((w) => count(w) ?? fail(`'${w}' is not a channel number`));
  if (perm.length > group) fail(`${perm.length} channels listed for groups of ${group}`);
  const seen = new Set(perm);
  const missing = perm.map((_, k) => k).filter((k) => !seen.has(k));
  if (missing.length > 0) {
    fail(`'${listed.join(' ')}' is not a permutation of 0..${perm.length - 1} (missing ${missing.join(', ')})`);
  }
  return { perm, group, where };
}

/** `t` with its first axis reordered by `order`; `name` is the file's tensor name, for errors. */
export function reorderChannels(t: HostTensor, order: ChannelOrder, name: string): HostTensor {
  const channels = t.shape[0];
  if (channels === undefined || channels % order.group !== 0) {
    throw new ChannelOrderError(
      `${order.where}: 'channels .. per ${order.group}' needs a multiple of ${order.group} output channels, but '${name}' has ${channels === undefined ? 'none (a scalar)' : channels}`,
    );
  }
  // Rows are copied as bytes, which every element type shares.
  const rowBytes = elementCount(t.shape.slice(1)) * t.data.BYTES_PER_ELEMENT;
  const data = t.data.slice();
  const from = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const to = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let base = 0; base < channels; base += order.group) {
    order.perm.forEach((src, k) => to.set(from.subarray((base + src) * rowBytes, (base + src + 1) * rowBytes), (base + k) * rowBytes));
  }
  return { ...t, data };
}
