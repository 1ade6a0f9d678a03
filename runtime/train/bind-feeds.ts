// Binding a model's per-batch tensors to a data set's fields. What a model reads with each batch
// (its feeds) are its non-trainable inputs and the targets of its loss terms; each binds to a field
// of the same name, a sole image input to `images`, or to the field `--feed NAME=FIELD` names.
// Shapes, dtypes and class ranges are checked here, before the first step, and a mismatch names
// the field, the model's input or target, both shapes in the course's H x W x C notation, and the data.

import { courseShape, modelFeeds, type ModelFeed } from '../../compiler/feeds.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { IMAGE_FIELD } from '../data/image-records.ts';
import { elementCount, type FieldBatch, type Fields, type FieldSpec } from '../data/records.ts';
import type { Feeds } from '../executor.ts';
import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';

/** Data that does not fit the model (exit 1). */
export class FeedError extends UserError {
  override readonly kind: UserErrorKind = 'data';
  override readonly name = 'FeedError';
}

/** A `--feed` option that is malformed or names no input or target of the model (exit 2). */
export class FeedOptionError extends UserError {
  override readonly name = 'FeedOptionError';
}

/** The same shape channels last ([C, H, W] -> [H, W, C]), as Keras and NumPy users store images. */
function channelsLast(shape: readonly number[]): readonly number[] {
  return shape.length < 2 ? shape : [...shape.slice(1), shape[0]!];
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
/** Equal but for axes of size 1 ([N] labels for a [N, 1] target, [F, 1, 1] cached activations for [F]): the same values in the same order. */
const sameValues = (a: readonly number[], b: readonly number[]): boolean => sameShape(a.filter((d) => d !== 1), b.filter((d) => d !== 1));

export interface FeedBinding {
  readonly feed: ModelFeed;
  readonly field: string;
  /** The field stores the feed channels last (N x H x W x C): batches are transposed to channels first. */
  readonly channelsLast: boolean;
}

/** Parses `--feed NAME=FIELD` options. */
export function parseFeedOverrides(values: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new FeedOptionError(`--feed expects INPUT=FIELD (e.g. --feed anchor=image_a), got '${v}'`);
    out.set(v.slice(0, eq).trim(), v.slice(eq + 1).trim());
  }
  return out;
}

/** The field a feed reads when no --feed names one. */
function defaultField(feed: ModelFeed, feeds: readonly ModelFeed[], fields: Fields): string | undefined {
  if (fields.has(feed.name)) return feed.name;
  const inputs = feeds.filter((f) => f.role === 'input');
  if (feed.role === 'input' && inputs.length === 1 && fields.has(IMAGE_FIELD)) return IMAGE_FIELD;
  // A second target of another shape is named `targets:<tensor>`: the field may be named after the tensor.
  const colon = feed.name.indexOf(':');
  if (colon > 0 && fields.has(feed.name.slice(colon + 1))) return feed.name.slice(colon + 1);
  return undefined;
}

const stored = (shape: readonly number[]): string => ['N', ...shape].join(' x ');

/**
 * A field's array and what it is per example in the course's notation. Its layout is not known, so
 * an image-like field is read both ways: `N x 16 x 16 x 3 (16 x 16 x 3 per example if channels last, ...)`.
 */
function describeField(shape: readonly number[]): string {
  if (shape.length < 2) return `${stored(shape)} (${courseShape(shape)} per example)`;
  const first = courseShape(shape);
  const last = shape.join(' x ');
  return `${stored(shape)} (${first === last ? `${first} per example` : `${last} per example if channels last, ${first} if channels first`})`;
}

/** A feed's shape per example in the course's notation and the arrays that hold it. */
function describeFeed(shape: readonly number[]): string {
  if (shape.length < 2) return `${courseShape(shape)} per example (${stored(shape)})`;
  return `${courseShape(shape)} per example (${stored(shape)} channels first or ${stored(channelsLast(shape))} channels last)`;
}

function checkField(model: string, feed: ModelFeed, field: string, spec: FieldSpec, source: string): boolean {
  let last = false;
  if (!sameValues(spec.shape, feed.shape)) {
    last = feed.shape.length >= 2 && sameShape(spec.shape, channelsLast(feed.shape));
    if (!last) {
      throw new FeedError(`${source}: field '${field}' holds ${describeField(spec.shape)}; model ${model}'s ${feed.what} is ${describeFeed(feed.shape)}`);
    }
  }
  if (feed.dtype === 'i32' && spec.dtype !== 'i32') {
    throw new FeedError(`${source}: field '${field}' holds floating-point values; model ${model}'s ${feed.what} needs integer class indices`);
  }
  if (feed.classes !== undefined && spec.classes !== undefined && spec.classes > feed.classes) {
    throw new FeedError(`${source}: field '${field}' has class labels up to ${spec.classes - 1}; model ${model}'s ${feed.what} has ${feed.classes} classes (0..${feed.classes - 1})`);
  }
  return last;
}

/**
 * Binds every feed of the model to a field and checks it. `source` names the data (a file) in errors.
 * Overrides name a feed and a field: `anchor` -> `image_a`.
 */
export function bindFeeds(graph: ModelGraph, fields: Fields, overrides: ReadonlyMap<string, string>, source: string, feeds = modelFeeds(graph)): FeedBinding[] {
  const fieldList = [...fields.keys()].join(', ') || 'none';
  for (const name of overrides.keys()) {
    if (!feeds.some((f) => f.name === name)) {
      throw new FeedOptionError(`--feed ${name}=${overrides.get(name)}: model ${graph.name} has no input or loss target '${name}' (it reads ${feeds.map((f) => f.name).join(', ') || 'nothing'})`);
    }
  }
  return feeds.map((feed) => {
    const field = overrides.get(feed.name) ?? defaultField(feed, feeds, fields);
    if (field === undefined) {
      throw new FeedError(`${source}: no field for model ${graph.name}'s ${feed.what} (${courseShape(feed.shape)}); the data has ${fieldList}; name one with --feed ${feed.name}=FIELD`);
    }
    const spec = fields.get(field);
    if (!spec) throw new FeedError(`${source}: no field '${field}' for model ${graph.name}'s ${feed.what}; the data has ${fieldList}`);
    return { feed, field, channelsLast: checkField(graph.name, feed, field, spec, source) };
  });
}

/** One line per binding, for the start of training: `image <- images (64 x 64 x 3)`. */
export function describeBindings(bindings: readonly FeedBinding[]): string {
  return bindings.map((b) => `${b.feed.name} <- ${b.field} (${courseShape(b.feed.shape)}${b.channelsLast ? ', stored channels last' : ''})`).join(', ');
}

/** [count, ...spatial, C] -> [count, C, ...spatial]. */
function toChannelsFirst(data: Float32Array, count: number, shape: readonly number[]): Float32Array {
  const c = shape[0]!;
  const plane = elementCount(shape.slice(1));
  const out = new Float32Array(data.length);
  for (let n = 0; n < count; n++) {
    const base = n * c * plane;
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < c; ch++) out[base + ch * plane + p] = data[base + p * c + ch];
  }
  return out;
}

/** The program's feeds for a batch of fields. */
export function feedsOf(bindings: readonly FeedBinding[], batch: FieldBatch): Map<string, Float32Array> {
  const feeds = new Map<string, Float32Array>();
  for (const b of bindings) {
    const value = batch.fields.get(b.field)!;
    feeds.set(b.feed.name, b.channelsLast ? toChannelsFirst(value, batch.count, b.feed.shape) : value);
  }
  return feeds;
}

export type { Feeds };
