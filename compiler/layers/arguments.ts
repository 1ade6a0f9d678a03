// Reading a layer's arguments: positional ones first, keywords by name, with one clear error for a
// missing, misspelled, mistyped or extra argument.

import { didYouMean, messages, type Message } from '../../grammar/diagnostics.ts';
import type { Span } from '../../grammar/span.ts';
import { describeValue, formatNumber, type ArgValue, type Value } from '../checker/values.ts';
import type { LayerContext } from './definition.ts';

/** What an on/off keyword offers (`bias off`); `true` and `false` are accepted too. */
export const FLAG_WORDS = ['on', 'off'] as const;

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

/** The keyword meant by one the layer does not take (`padding` for `pad`), from aliases, prefixes and spelling. */
function keywordGuess(name: string, known: readonly string[]): string | undefined {
  const alias = KEYWORD_ALIASES[name];
  return alias !== undefined && known.includes(alias) ? alias : (known.find((k) => name.startsWith(k) || k.startsWith(name)) ?? didYouMean(name, known));
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
      if (this.keywords.has(a.name)) this.fail(a.span, messages.wrongArguments.keywordTwice({ op: ctx.op, keyword: a.name }));
      this.keywords.set(a.name, a);
    }
  }

  /** Reports `m` (a wrong argument, or one that is not whole) and marks the arguments unusable. */
  fail(span: Span, m: Message): undefined {
    this.ok = false;
    this.ctx.report(span, m);
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
    const op = this.ctx.op;
    if (v.kind !== 'number') return this.fail(arg.span, messages.wrongArguments.layerNumber({ op, what, got: describeValue(v) }));
    if (!Number.isInteger(v.value)) return this.fail(arg.span, messages.notAnInteger.layerValue({ op, what, got: formatNumber(v.value) }));
    if (v.value < min) return this.fail(arg.span, messages.wrongArguments.layerAtLeast({ op, what, min, got: String(v.value) }));
    return v.value;
  }

  number(arg: ArgValue, what: string): number | undefined {
    if (arg.value.kind !== 'number') return this.fail(arg.span, messages.wrongArguments.layerNumber({ op: this.ctx.op, what, got: describeValue(arg.value) }));
    return arg.value.value;
  }

  /** `5x5`, or `5` repeated over `rank` axes. */
  sizes(arg: ArgValue, what: string, rank: number, min = 1): number[] | undefined {
    const v: Value = arg.value;
    if (v.kind === 'number') {
      const n = this.integer(arg, what, min);
      return n === undefined ? undefined : Array<number>(rank).fill(n);
    }
    const op = this.ctx.op;
    if (v.kind !== 'dims') return this.fail(arg.span, messages.wrongArguments.layerSize({ op, what, rank, got: describeValue(v) }));
    if (v.values.length !== rank) return this.fail(arg.span, messages.wrongArguments.layerSizeAxes({ op, what, sizes: v.values, rank }));
    for (const n of v.values) {
      if (!Number.isInteger(n)) return this.fail(arg.span, messages.notAnInteger.layerSizes({ op, what, sizes: v.values }));
      if (n < min) return this.fail(arg.span, messages.wrongArguments.layerAtLeast({ op, what, min, got: v.values.join('x') }));
    }
    return [...v.values];
  }

  symbol(arg: ArgValue, what: string, allowed: readonly string[]): string | undefined {
    if (arg.value.kind === 'symbol' && allowed.includes(arg.value.name)) return arg.value.name;
    return this.fail(arg.span, messages.wrongArguments.layerChoice({ op: this.ctx.op, what, allowed, got: describeValue(arg.value) }));
  }

  /** An optional size keyword (`stride 2`, `pad 1x0`) over `rank` axes, or `fallback` when it is not written. */
  optionalSizes(name: string, rank: number, fallback: readonly number[] | undefined, min = 1): number[] | undefined {
    const arg = this.keyword(name);
    if (arg) return this.sizes(arg, name, rank, min);
    return fallback === undefined ? undefined : [...fallback];
  }

  /** An optional number keyword (`eps 1e-3`), or `fallback` when it is not written. */
  optionalNumber(name: string, fallback: number): number | undefined {
    const arg = this.keyword(name);
    return arg ? this.number(arg, name) : fallback;
  }

  /** An optional on/off keyword (`bias off`), or `fallback` when it is not written. */
  optionalFlag(name: string, fallback: boolean): boolean | undefined {
    const arg = this.keyword(name);
    return arg ? this.flag(arg, name) : fallback;
  }

  /** `on`/`off`/`true`/`false` */
  flag(arg: ArgValue, what: string): boolean | undefined {
    const s = this.symbol(arg, what, [...FLAG_WORDS, 'true', 'false']);
    return s === undefined ? undefined : s === 'on' || s === 'true';
  }

  finish(): boolean {
    for (const extra of this.positional.slice(this.positionalIndex)) {
      this.fail(extra.span, messages.wrongArguments.unexpectedArgument({ op: this.ctx.op, got: describeValue(extra.value) }));
    }
    for (const [name, arg] of this.keywords) {
      if (this.usedKeywords.has(name)) continue;
      const known = [...this.usedKeywords];
      this.fail(arg.span, messages.wrongArguments.unknownKeyword({ op: this.ctx.op, keyword: name, guess: keywordGuess(name, known), known }));
    }
    return this.ok;
  }
}
