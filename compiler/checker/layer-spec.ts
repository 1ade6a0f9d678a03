// What every layer rule gets and gives: evaluated arguments and input tensors in, attributes,
// output shape, parameter shapes and MAC count out. Rules report problems through `ctx.report`
// and return undefined when the layer cannot be typed.

import { didYouMean, type Diagnostic, type DiagnosticKind } from '../../grammar/diagnostics.ts';
import type { LayerAttrs, ParamRole, Shape } from '../graph.ts';
import type { Span } from '../../grammar/span.ts';
import { describeValue, formatNumber, formatShape, type ArgValue, type TensorValue, type Value } from './values.ts';

export interface LayerInput {
  readonly value: TensorValue;
  readonly span: Span;
}

export interface LayerContext {
  /** The name as written (`conv`, `conv2d`, `maxpool`). */
  readonly op: string;
  readonly opSpan: Span;
  readonly span: Span;
  readonly args: readonly ArgValue[];
  readonly inputs: readonly LayerInput[];
  report(kind: DiagnosticKind, span: Span, message: string, hint?: string, fix?: Diagnostic['fix']): void;
}

export interface LayerType {
  readonly attrs: LayerAttrs;
  readonly shape: Shape;
  readonly params: readonly { readonly role: ParamRole; readonly shape: Shape }[];
  readonly macs: number;
}

export interface LayerSpec {
  /** How many input tensors: exactly one, or two and more (add, concat). */
  readonly inputs: 'one' | 'many';
  /** Keyword arguments it takes, for completion and signature help. */
  readonly keywords: readonly string[];
  /** One-line signature for editors: `conv filters, k x k [, stride s] [, pad p|same|valid] ...`. */
  readonly signature: string;
  readonly doc: string;
  type(ctx: LayerContext): LayerType | undefined;
}

/** `maxpool_2`'s 28x28x6 */
export function describeInput(input: LayerInput): string {
  return `${formatShape(input.value.shape)} from ${input.value.name}`;
}

/** Other frameworks' names for our keywords (Keras, PyTorch): `padding same` means `pad same`. */
const KEYWORD_ALIASES: Readonly<Record<string, string>> = {
  padding: 'pad',
  strides: 'stride',
  dilation_rate: 'dilation',
  use_bias: 'bias',
  epsilon: 'eps',
  p: 'rate',
  drop: 'rate',
};

/** `did you mean 'pad'?` for a keyword the layer does not take, from aliases, prefixes and spelling. */
function keywordHint(name: string, known: readonly string[]): string | undefined {
  const alias = KEYWORD_ALIASES[name];
  const guess = alias !== undefined && known.includes(alias) ? alias : (known.find((k) => name.startsWith(k) || k.startsWith(name)) ?? didYouMean(name, known));
  if (guess !== undefined) return `did you mean '${guess}'?`;
  return known.length > 0 ? `its keywords: ${known.join(', ')}` : undefined;
}

/**
 * Reads a layer's arguments in order: positional ones first, keywords by name. `finish` reports
 * whatever was not read, so a misspelled keyword or an extra value is never silently ignored.
 */
export class ArgReader {
  private positionalIndex = 0;
  private readonly positional: ArgValue[];
  private readonly keywords = new Map<string, ArgValue>();
  private readonly usedKeywords = new Set<string>();
  ok = true;

  constructor(private readonly ctx: LayerContext) {
    this.positional = ctx.args.filter((a) => a.name === undefined);
    for (const a of ctx.args) {
      if (a.name === undefined) continue;
      if (this.keywords.has(a.name)) this.fail(a.span, `${ctx.op}: keyword '${a.name}' given twice`);
      this.keywords.set(a.name, a);
    }
  }

  fail(span: Span, message: string, hint?: string): undefined {
    this.ok = false;
    this.ctx.report('wrongArguments', span, message, hint);
    return undefined;
  }

  nextPositional(): ArgValue | undefined {
    return this.positional[this.positionalIndex++];
  }

  keyword(name: string): ArgValue | undefined {
    this.usedKeywords.add(name);
    return this.keywords.get(name);
  }

  /** A required or optional positional argument, else the keyword of the same name. */
  arg(name: string): ArgValue | undefined {
    return this.keyword(name) ?? this.nextPositional();
  }

  /** A positive (or non-negative) whole number. */
  integer(arg: ArgValue, what: string, min = 1): number | undefined {
    const v = arg.value;
    if (v.kind !== 'number') return this.fail(arg.span, `${this.ctx.op}: ${what} must be a number, got ${describeValue(v)}`);
    if (!Number.isInteger(v.value)) {
      this.ok = false;
      this.ctx.report('notAnInteger', arg.span, `${this.ctx.op}: ${what} must be a whole number, got ${formatNumber(v.value)}`);
      return undefined;
    }
    if (v.value < min) return this.fail(arg.span, `${this.ctx.op}: ${what} must be at least ${min}, got ${v.value}`);
    return v.value;
  }

  number(arg: ArgValue, what: string): number | undefined {
    if (arg.value.kind !== 'number') return this.fail(arg.span, `${this.ctx.op}: ${what} must be a number, got ${describeValue(arg.value)}`);
    return arg.value.value;
  }

  /** `5x5`, or `5` repeated over `rank` axes. */
  sizes(arg: ArgValue, what: string, rank: number, min = 1): number[] | undefined {
    const v: Value = arg.value;
    if (v.kind === 'number') {
      const n = this.integer(arg, what, min);
      return n === undefined ? undefined : Array<number>(rank).fill(n);
    }
    if (v.kind !== 'dims') return this.fail(arg.span, `${this.ctx.op}: ${what} must be a size like ${Array(rank).fill(3).join('x')}, got ${describeValue(v)}`);
    if (v.values.length !== rank) {
      return this.fail(arg.span, `${this.ctx.op}: ${what} ${v.values.join('x')} has ${v.values.length} axes, the input has ${rank} spatial axes`);
    }
    for (const n of v.values) {
      if (!Number.isInteger(n)) {
        this.ok = false;
        this.ctx.report('notAnInteger', arg.span, `${this.ctx.op}: ${what} must be whole numbers, got ${v.values.join('x')}`);
        return undefined;
      }
      if (n < min) return this.fail(arg.span, `${this.ctx.op}: ${what} must be at least ${min}, got ${v.values.join('x')}`);
    }
    return [...v.values];
  }

  symbol(arg: ArgValue, what: string, allowed: readonly string[]): string | undefined {
    if (arg.value.kind === 'symbol' && allowed.includes(arg.value.name)) return arg.value.name;
    return this.fail(arg.span, `${this.ctx.op}: ${what} must be one of ${allowed.join(', ')}, got ${describeValue(arg.value)}`);
  }

  /** `on`/`off`/`true`/`false` */
  flag(arg: ArgValue, what: string): boolean | undefined {
    const s = this.symbol(arg, what, ['on', 'off', 'true', 'false']);
    return s === undefined ? undefined : s === 'on' || s === 'true';
  }

  finish(): boolean {
    for (const extra of this.positional.slice(this.positionalIndex)) {
      this.fail(extra.span, `${this.ctx.op}: unexpected argument ${describeValue(extra.value)}`);
    }
    for (const [name, arg] of this.keywords) {
      if (!this.usedKeywords.has(name)) this.fail(arg.span, `${this.ctx.op} takes no keyword '${name}'`, keywordHint(name, [...this.usedKeywords]));
    }
    return this.ok;
  }
}
