// Expands one model into its typed layer graph: evaluates arguments, instantiates blocks, unrolls
// loops, applies each layer's shape rule and records every problem as a diagnostic at its span.
// It never throws on user input; a layer that cannot be typed stops the chain it is in, and the
// rest of the model is still checked.

import { ERROR_NAME, type Argument, type BlockDecl, type Expr, type ModelDecl, type Stage, type Statement } from '../../grammar/ast.ts';
import { CATALOG, diagnostic, didYouMean, inInstance, messages, type Diagnostic, type DiagnosticKind, type FixEdit, type Message } from '../../grammar/diagnostics.ts';
import type { InputNode, LayerAttrs, LayerNode, LossTerm, ModelGraph, ParamSpec } from '../graph.ts';
import type { Span } from '../../grammar/span.ts';
import type { LayerDefinition, LayerInput, LayerType } from '../layers/definition.ts';
import { LAYERS } from '../layers/index.ts';
import { LOSSES, type PendingLossTerm } from './loss.ts';
import { describeValue, formatNumber, SYMBOLS, type ArgValue, type TensorValue, type Value } from './values.ts';

/** A block instance declared with `share`: every application uses the first one's weights. */
interface SharedInstance {
  readonly kind: 'shared';
  readonly block: BlockDecl;
  readonly args: readonly ArgValue[];
  /** Parameter keys live under this name: `enc.conv_1.weight`. */
  readonly paramRoot: string;
  /** Inner layer name -> the layer (of the first application) that owns its parameters. */
  readonly owners: Map<string, string>;
  readonly span: Span;
}

type Binding = { readonly kind: 'value'; readonly value: Value; readonly span: Span } | SharedInstance;

interface SharedContext {
  readonly instance: SharedInstance;
  /** Layer-name prefix of this application (`a.`), stripped to find the inner name. */
  readonly layerRoot: string;
}

interface Scope {
  readonly prefix: string;
  readonly bindings: Map<string, Binding>;
  readonly counters: Map<string, number>;
  readonly isModel: boolean;
  readonly blockStack: readonly string[];
  readonly shared?: SharedContext;
  /** Names bound later in this body, to tell "used before defined" from "unknown". */
  readonly laterNames: Map<string, Span>;
  loopSuffix: string;
  current?: TensorValue;
  returned?: TensorValue;
  /** A statement of this body failed: a block's application then fails too (see applyBlock). */
  failed?: boolean;
}

interface MutableLayer {
  name: string;
  attrs: LayerAttrs;
  inputs: string[];
  inputShapes: LayerNode['inputShapes'];
  shape: LayerNode['shape'];
  paramOwner: string;
  paramShapes: LayerType['params'];
  paramKeyRoot: string;
  macs: number;
  span: Span;
  doc?: string;
}

export interface ExpandOptions {
  readonly blocks: ReadonlyMap<string, BlockDecl>;
  /** `--set k=v` values for the model's parameters. */
  readonly overrides?: Readonly<Record<string, number>>;
  /** Stop with a diagnostic at this performance.now() time (the language server's budget per check). */
  readonly deadline?: { readonly at: number; readonly ms: number };
  /** Polled as the expansion runs: true abandons it by throwing CheckCancelled (an editor's next edit). */
  readonly cancelled?: () => boolean;
}

/** The check was abandoned because ExpandOptions.cancelled said so: there is no result. */
export class CheckCancelled extends Error {
  constructor() {
    super('the check was cancelled');
  }
}

export interface ExpandResult {
  readonly graph?: ModelGraph;
  readonly diagnostics: Diagnostic[];
}

/** Weight names follow PyTorch, so torchvision-style checkpoints load by name: batchnorm's gamma is `.weight`. */
const PARAM_SUFFIX: Readonly<Record<ParamSpec['role'], string>> = {
  weight: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  running_mean: 'running_mean',
  running_var: 'running_var',
};

/**
 * Expansion limits: a typo like `repeat 1e9` must end in a diagnostic, not a hang, and an editor
 * checks on every keystroke: 50,000 layers (30 times ResNet-152's) check in about a second. They are
 * checked as the expansion grows (nested loops and blocks that apply blocks multiply), and
 * passing one abandons the whole model at once.
 */
const MAX_LOOP_ITERATIONS = 100_000;
const MAX_LAYERS = 50_000;
/** Statements run in all, counting every loop iteration and block application. */
const MAX_STATEMENTS = 250_000;
/** Blocks applying blocks: each level is a few stack frames of the expander. */
export const MAX_BLOCK_DEPTH = 64;

/** Thrown (and caught in expandModel) to abandon a chain after its error was reported. */
class ChainStopped {}

/** Thrown once a limit on the whole expansion is passed: nothing more of the model is expanded. */
class ExpansionAborted {}

/** Bound to a name whose definition failed: later uses stop quietly instead of cascading errors. */
const POISON: Value = { kind: 'symbol', name: '<error>' };

/**
 * The running value after an input failed: the next line that continues from it stops quietly
 * (its error would only follow from the first), and a line that starts from a named value goes on.
 */
const BROKEN: TensorValue = { kind: 'tensor', name: '<error>', shape: [] };

/**
 * The names outputs carry where the model file names them by a binding that is not the tensor's
 * own name (`output a` after `a = encoder(anchor)`); undefined when every output is named by its
 * tensor. A binding name that another output already carries, or that is another output's tensor,
 * keeps the tensor's name so that names stay unique.
 */
function userOutputNames(tensors: readonly string[], bindings: readonly string[]): string[] | undefined {
  if (bindings.every((b, i) => b === tensors[i])) return undefined;
  const taken = new Map<string, string>();
  return tensors.map((tensor, i) => {
    const wanted = bindings[i]!;
    const clash = (taken.has(wanted) && taken.get(wanted) !== tensor) || tensors.some((t) => t === wanted && t !== tensor);
    const name = clash ? tensor : wanted;
    taken.set(name, tensor);
    return name;
  });
}

function declaresInput(statements: readonly Statement[]): boolean {
  return statements.some((st) => st.kind === 'input' || ((st.kind === 'repeat' || st.kind === 'for') && declaresInput(st.body)));
}

export function expandModel(model: ModelDecl, options: ExpandOptions): ExpandResult {
  return new Expander(options).model(model);
}

class Expander {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly layers: MutableLayer[] = [];
  private readonly layerNames = new Map<string, MutableLayer>();
  private readonly inputs: InputNode[] = [];
  private readonly instancePrefixes = new Set<string>();

  constructor(private readonly options: ExpandOptions) {}

  /** Errors already reported, by code and place (placeKey). */
  private readonly reported = new Set<string>();
  /** Layer inputs already rejected, by code and input names (`code|a,b`). */
  private readonly rejected = new Set<string>();
  /** Some statement failed other than an input: the lines after it continued from an earlier value. */
  private layerFailed = false;

  /**
   * Follow-on errors stay quiet: a line inside a loop or a block reports the first of its
   * failures only, not one per iteration or application.
   */
  private report(span: Span, m: Message, fix?: FixEdit): void {
    if (CATALOG[m.kind].severity === 'error') {
      if (this.reportedAt(m.kind, span)) return;
      this.reported.add(placeKey(m.kind, span));
    }
    this.diagnostics.push(diagnostic(span, m, fix));
  }

  /** Whether this error was reported here already: then its message (a did-you-mean search) is not worth making again. */
  private reportedAt(kind: DiagnosticKind, span: Span): boolean {
    return this.reported.has(placeKey(kind, span));
  }

  /**
   * A failed layer leaves the running value as it was, so the next line sees the value the failed
   * one rejected: rejecting it again for the same reason (a second `dense` without `flatten`) only
   * repeats the first error. Another reason, or another value, is an error of its own.
   */
  private repeatsRejection(kind: DiagnosticKind, inputs: readonly LayerInput[]): boolean {
    const key = `${kind}|${inputs.map((i) => i.value.name).join(',')}`;
    if (this.rejected.has(key)) return true;
    this.rejected.add(key);
    return false;
  }

  private stop(span: Span, m: Message): never {
    this.report(span, m);
    throw new ChainStopped();
  }

  private abort(span: Span, m: Message): never {
    this.report(span, m);
    throw new ExpansionAborted();
  }

  private statementsRun = 0;

  model(model: ModelDecl): ExpandResult {
    try {
      return this.expandModel(model);
    } catch (e) {
      if (!(e instanceof ExpansionAborted)) throw e;
      return { diagnostics: this.diagnostics };
    }
  }

  private expandModel(model: ModelDecl): ExpandResult {
    const scope = this.newScope('', true, [], undefined);
    const overrides = { ...this.options.overrides };
    for (const p of model.params) {
      let value: Value | undefined;
      if (p.name.name in overrides) {
        value = { kind: 'number', value: overrides[p.name.name] };
        delete overrides[p.name.name];
      } else if (p.default) {
        value = this.tryEval(p.default, scope);
      } else {
        this.report(p.name.span, messages.wrongArguments.modelParameterDefault({ name: p.name.name }));
      }
      if (value) scope.bindings.set(p.name.name, { kind: 'value', value, span: p.name.span });
    }
    for (const unknown of Object.keys(overrides)) {
      const guess = didYouMean(unknown, model.params.map((p) => p.name.name));
      this.report(model.name.span, messages.unknownName.modelParameter({ model: model.name.name, name: unknown, guess }));
    }

    const losses: Extract<Statement, { kind: 'loss' }>[] = [];
    const outputs: Extract<Statement, { kind: 'output' }>[] = [];
    const freezes: Extract<Statement, { kind: 'freeze' }>[] = [];
    this.body(model.body, scope, (st) => {
      if (st.kind === 'loss') losses.push(st);
      else if (st.kind === 'output') outputs.push(st);
      else if (st.kind === 'freeze') freezes.push(st);
      else return false;
      return true;
    });

    if (this.inputs.length === 0 && !declaresInput(model.body)) {
      this.report(model.name.span, messages.noInput.model({ model: model.name.name }));
    }

    const outputNames: string[] = [];
    const bindingNames: string[] = [];
    for (const out of outputs) {
      for (const v of out.values) {
        const t = this.tryTensor(v, scope, 'an output');
        if (!t) continue;
        outputNames.push(t.name);
        bindingNames.push(v.kind === 'name' ? v.name : t.name);
      }
    }
    if (outputs.length === 0 && scope.current && scope.current !== BROKEN) outputNames.push(scope.current.name);
    const userNames = userOutputNames(outputNames, bindingNames);

    const loss = losses.flatMap((l) => this.lossTerms(l.expr, scope, outputNames));
    const frozen = this.frozenLayers(freezes, scope);
    const layers = this.layers.map((l) => this.finishLayer(l, frozen));
    const graph: ModelGraph = {
      name: model.name.name,
      file: model.span.file,
      ...(model.doc ? { doc: model.doc } : {}),
      inputs: this.inputs,
      layers,
      outputs: outputNames,
      ...(userNames ? { outputNames: userNames } : {}),
      loss,
      span: model.span,
    };
    return { graph, diagnostics: this.diagnostics };
  }

  private newScope(prefix: string, isModel: boolean, blockStack: readonly string[], shared: SharedContext | undefined): Scope {
    return { prefix, bindings: new Map(), counters: new Map(), isModel, blockStack, shared, laterNames: new Map(), loopSuffix: '' };
  }

  /** Runs statements; `special` takes model-only statements (loss, output, freeze). */
  private body(statements: readonly Statement[], scope: Scope, special: (st: Statement) => boolean): void {
    const later = collectBoundNames(statements);
    for (const [name, span] of later) if (!scope.bindings.has(name)) scope.laterNames.set(name, span);
    for (const st of statements) {
      this.countStatement(st.span);
      if (st.kind === 'chain' && st.target) scope.laterNames.delete(st.target.name);
      if (st.kind === 'input' || st.kind === 'share') scope.laterNames.delete(st.name.name);
      try {
        this.statement(st, scope, special);
      } catch (e) {
        if (!(e instanceof ChainStopped)) throw e;
        const failed = st.kind === 'chain' ? st.target : st.kind === 'input' || st.kind === 'share' ? st.name : undefined;
        if (failed) scope.bindings.set(failed.name, { kind: 'value', value: POISON, span: failed.span });
        // A failed input leaves nothing to continue from: the lines after it would only report that.
        // A failed layer does not: the next line continues from the last good value, so an editor
        // still sees the file's other, independent errors.
        if (st.kind === 'input') scope.current = BROKEN;
        else this.layerFailed = true;
        scope.failed = true;
      }
    }
  }

  private statement(st: Statement, scope: Scope, special: (st: Statement) => boolean): void {
    switch (st.kind) {
      case 'input':
        return this.input(st, scope);
      case 'chain': {
        const result = this.chain(st.stages, st.span, scope, st.target?.name, st.doc);
        if (st.target) {
          if (scope.bindings.has(st.target.name) && !scope.loopSuffix && scope.bindings.get(st.target.name)?.kind === 'value') {
            const prev = scope.bindings.get(st.target.name)!;
            if (prev.kind === 'value' && prev.value.kind === 'tensor') {
              this.report(st.target.span, messages.duplicateName.value({ name: st.target.name, line: prev.span.startLine }));
            }
          }
          scope.bindings.set(st.target.name, { kind: 'value', value: result, span: st.target.span });
        }
        scope.current = result;
        return;
      }
      case 'return':
        if (scope.isModel) return this.stop(st.span, messages.wrongArguments.returnInModel());
        scope.returned = this.chain(st.stages, st.span, scope, undefined, undefined);
        return;
      case 'share':
        return this.share(st, scope);
      case 'repeat': {
        const count = this.integer(st.count, scope, 'repeat count', 0);
        this.checkIterations(count, st.count.span);
        for (let i = 1; i <= count; i++) {
          if (!this.loopBody(st.body, scope, String(i), special, st.span)) break;
        }
        return;
      }
      case 'for': {
        const from = this.integer(st.from, scope, 'range start', -Infinity);
        const to = this.integer(st.to, scope, 'range end', -Infinity);
        this.checkIterations(to - from + 1, st.span);
        const saved = scope.bindings.get(st.variable.name);
        for (let i = from; i <= to; i++) {
          scope.bindings.set(st.variable.name, { kind: 'value', value: { kind: 'number', value: i }, span: st.variable.span });
          if (!this.loopBody(st.body, scope, String(i), special, st.span)) break;
        }
        if (saved) scope.bindings.set(st.variable.name, saved);
        else scope.bindings.delete(st.variable.name);
        return;
      }
      case 'loss':
      case 'output':
      case 'freeze':
        if (!scope.isModel) return this.stop(st.span, messages.wrongArguments.modelStatementInBlock({ statement: st.kind }));
        special(st);
        return;
    }
  }

  private checkIterations(count: number, span: Span): void {
    if (count > MAX_LOOP_ITERATIONS) this.stop(span, messages.wrongArguments.loopTooLong({ count, max: MAX_LOOP_ITERATIONS }));
  }

  /** Every statement run and every loop iteration (even of an empty body) counts against MAX_STATEMENTS. */
  private countStatement(span: Span): void {
    // Reading the clock and the cancellation flag every 256 statements keeps their cost out of the profile.
    if ((this.statementsRun & 255) === 0) {
      if (this.options.cancelled?.()) throw new CheckCancelled();
      const deadline = this.options.deadline;
      if (deadline && performance.now() > deadline.at) {
        this.abort(span, messages.tooLarge.deadline({ ms: deadline.ms }));
      }
    }
    if (++this.statementsRun > MAX_STATEMENTS) {
      this.abort(span, messages.tooLarge.statements({ max: MAX_STATEMENTS }));
    }
  }

  /**
   * One iteration; false when a statement of it failed. The loop then stops: the next iterations
   * would only repeat the error (reported once per place) at the cost of running them.
   */
  private loopBody(body: readonly Statement[], scope: Scope, iteration: string, special: (st: Statement) => boolean, span: Span): boolean {
    this.countStatement(span);
    const saved = scope.loopSuffix;
    const failedBefore = scope.failed;
    scope.failed = false;
    scope.loopSuffix = `${saved}_${iteration}`;
    this.body(body, scope, special);
    scope.loopSuffix = saved;
    const ok = !scope.failed;
    scope.failed = failedBefore || !ok;
    return ok;
  }

  private input(st: Extract<Statement, { kind: 'input' }>, scope: Scope): void {
    if (!scope.isModel) return this.stop(st.span, messages.wrongArguments.inputInBlock());
    const v = this.eval(st.shape, scope);
    const dims = v.kind === 'number' ? [v.value] : v.kind === 'dims' ? v.values : undefined;
    if (!dims) return this.stop(st.shape.span, messages.wrongValueKind.inputShape({ got: describeValue(v) }));
    for (const d of dims) {
      if (!Number.isInteger(d)) return this.stop(st.shape.span, messages.notAnInteger.inputSizes({ sizes: dims }));
      if (d < 1) return this.stop(st.shape.span, messages.nonPositiveSize.inputSizes({ sizes: dims }));
    }
    const name = st.name.name;
    if (scope.bindings.has(name) || this.layerNames.has(name)) this.report(st.name.span, messages.duplicateName.input({ name }));
    const tensor: TensorValue = { kind: 'tensor', name, shape: dims };
    this.inputs.push({ name, shape: dims, trainable: st.trainable, span: st.span, ...(st.doc ? { doc: st.doc } : {}) });
    scope.bindings.set(name, { kind: 'value', value: tensor, span: st.name.span });
    scope.current = tensor;
  }

  private share(st: Extract<Statement, { kind: 'share' }>, scope: Scope): void {
    const e = st.value;
    const callee = e.kind === 'call' ? e.callee : e;
    const args = e.kind === 'call' ? e.args : [];
    if (callee.kind === 'name' && !this.options.blocks.has(callee.name) && !LAYERS[callee.name]) {
      // Only blocks can be shared: suggest among them, never the name being declared.
      const guess = didYouMean(callee.name, this.options.blocks.keys());
      return this.stop(callee.span, messages.unknownName.block({ name: callee.name, guess, blocks: [...this.options.blocks.keys()] }));
    }
    if (callee.kind !== 'name' || !this.options.blocks.has(callee.name)) {
      return this.stop(e.span, messages.wrongValueKind.shareNeedsBlock());
    }
    const block = this.options.blocks.get(callee.name)!;
    scope.bindings.set(st.name.name, {
      kind: 'shared',
      block,
      args: args.map((a) => this.argument(a, scope)),
      paramRoot: scope.prefix + st.name.name,
      owners: new Map(),
      span: st.name.span,
    });
  }

  // ---- chains and stages -------------------------------------------------------------------

  private chain(stages: readonly Stage[], span: Span, scope: Scope, target: string | undefined, doc: string | undefined): TensorValue {
    let current: TensorValue | undefined;
    stages.forEach((stage, i) => {
      const last = i === stages.length - 1;
      const alias = stage.alias?.name ?? (last ? target : undefined);
      const name = alias === undefined ? undefined : alias + scope.loopSuffix;
      current = this.stage(stage, scope, i === 0 ? scope.current : current, i === 0, name, stage.alias?.span, last ? doc : undefined);
    });
    if (!current) return this.stop(span, messages.syntaxError.emptyChain());
    return current;
  }

  private stage(stage: Stage, scope: Scope, input: TensorValue | undefined, first: boolean, name: string | undefined, nameSpan: Span | undefined, doc: string | undefined): TensorValue {
    const e = stage.expr;
    if (e.kind === 'name' && e.name === ERROR_NAME) throw new ChainStopped();
    if (e.kind === 'layer') {
      const spec = LAYERS[e.op];
      if (!spec) return this.unknownCallee(e.op, e.opSpan, scope);
      const args = e.args.map((a) => this.argument(a, scope));
      return this.layer(spec, e.op, e.opSpan, e.span, args, this.implicitInput(input, e.op, e.span), scope, name, nameSpan, doc);
    }
    if (e.kind === 'name') {
      const binding = scope.bindings.get(e.name);
      if (binding?.kind === 'value') {
        if (binding.value === POISON) throw new ChainStopped();
        if (binding.value.kind !== 'tensor') return this.stop(e.span, messages.wrongValueKind.numberAsStep({ name: e.name, value: describeValue(binding.value) }));
        if (!first) return this.stop(e.span, messages.wrongValueKind.tensorAsStep({ name: e.name }));
        return binding.value;
      }
      if (binding?.kind === 'shared') return this.applyBlock(binding.block, binding.args, [this.implicitInput(input, e.name, e.span)], scope, name, e.span, binding);
      const spec = LAYERS[e.name];
      if (spec) return this.layer(spec, e.name, e.span, e.span, [], this.implicitInput(input, e.name, e.span), scope, name, nameSpan, doc);
      const block = this.options.blocks.get(e.name);
      if (block) return this.applyBlock(block, [], [this.implicitInput(input, e.name, e.span)], scope, name, e.span, undefined);
      const layer = this.layerNames.get(scope.prefix + e.name);
      if (layer && first) return { kind: 'tensor', name: layer.name, shape: layer.shape };
      return this.unknownCallee(e.name, e.span, scope, first ? 'name' : 'layer or block');
    }
    if (e.kind === 'call' && e.callee.kind === 'name') {
      const calleeName = e.callee.name;
      const binding = scope.bindings.get(calleeName);
      if (!binding && this.options.blocks.has(calleeName)) {
        const block = this.options.blocks.get(calleeName)!;
        const args = e.args.map((a) => this.argument(a, scope));
        return this.applyBlock(block, args, [this.implicitInput(input, calleeName, e.span)], scope, name, e.span, undefined);
      }
      if (!binding && LAYERS[calleeName]) return this.callLayer(e, calleeName, scope, input, name, nameSpan, doc);
    }
    const v = this.eval(e, scope, name, nameSpan);
    if (v.kind !== 'tensor') return this.stop(e.span, messages.wrongValueKind.chainStep({ got: describeValue(v) }));
    return v;
  }

  private implicitInput(input: TensorValue | undefined, op: string, span: Span): TensorValue {
    if (input === BROKEN) throw new ChainStopped();
    if (input) return input;
    return this.stop(span, messages.noInput.layer({ op }));
  }

  private unknownCallee(name: string, span: Span, scope: Scope, what = 'layer or block'): never {
    if (this.reportedAt('unknownName', span)) throw new ChainStopped();
    const later = scope.laterNames.get(name);
    if (later) this.useBeforeDefinition(name, span, later);
    const candidates = [...Object.keys(LAYERS), ...this.options.blocks.keys(), ...scope.bindings.keys()];
    const guess = didYouMean(name, candidates);
    this.report(span, messages.unknownName.callee({ what, name, guess }), guess ? { span, text: guess } : undefined);
    throw new ChainStopped();
  }

  private useBeforeDefinition(name: string, span: Span, definedAt: Span): never {
    return this.stop(span, messages.useBeforeDefinition.value({ name, definedAtLine: definedAt.startLine }));
  }

  /** `relu(y + x)`, `concat(a, b)`, `leaky_relu(t, alpha 0.1)`: tensor arguments are the inputs. */
  private callLayer(e: Extract<Expr, { kind: 'call' }>, op: string, scope: Scope, input: TensorValue | undefined, name: string | undefined, nameSpan: Span | undefined, doc?: string): TensorValue {
    const spec = LAYERS[op];
    const inputs: LayerInput[] = [];
    const args: ArgValue[] = [];
    for (const a of e.args) {
      const v = this.argument(a, scope);
      if (v.value.kind === 'tensor' && v.name === undefined) inputs.push({ value: v.value, span: a.span });
      else args.push(v);
    }
    const calleeSpan = e.callee.span;
    if (inputs.length === 0) inputs.push({ value: this.implicitInput(input, op, e.span), span: e.span });
    return this.layerWithInputs(spec, op, calleeSpan, e.span, args, inputs, scope, name, nameSpan, doc);
  }

  private layer(spec: LayerDefinition, op: string, opSpan: Span, span: Span, args: ArgValue[], input: TensorValue, scope: Scope, name: string | undefined, nameSpan: Span | undefined, doc: string | undefined): TensorValue {
    const inputs = [{ value: input, span }];
    return this.layerWithInputs(spec, op, opSpan, span, args, inputs, scope, name, nameSpan, doc);
  }

  private layerWithInputs(spec: LayerDefinition, op: string, opSpan: Span, span: Span, args: ArgValue[], inputs: LayerInput[], scope: Scope, name: string | undefined, nameSpan: Span | undefined, doc: string | undefined): TensorValue {
    if (spec.inputs === 'one' && inputs.length !== 1) {
      return this.stop(span, messages.wrongArguments.oneInput({ op, got: inputs.length }));
    }
    if (spec.inputs === 'many' && inputs.length < 2) {
      return this.stop(span, messages.wrongArguments.manyInputs({ op, got: inputs.length }));
    }
    let failed = false;
    const typed = spec.type({
      op,
      opSpan,
      span,
      args,
      inputs,
      report: (s, m, fix) => {
        // A warning on a line inside a block holds for one application of it: say which.
        const isError = CATALOG[m.kind].severity === 'error';
        if (m.kind !== 'fractionalSize') failed = true;
        if (isError && this.repeatsRejection(m.kind, inputs)) return;
        this.report(s, !isError && scope.prefix !== '' ? inInstance(m, scope.prefix.slice(0, -1)) : m, fix);
      },
    });
    if (!typed || failed) throw new ChainStopped();
    return this.addLayer(typed, inputs, scope, name, nameSpan, span, doc);
  }

  private addLayer(typed: LayerType, inputs: readonly LayerInput[], scope: Scope, name: string | undefined, nameSpan: Span | undefined, span: Span, doc: string | undefined): TensorValue {
    if (this.layers.length >= MAX_LAYERS) this.abort(span, messages.tooLarge.layers({ max: MAX_LAYERS }));
    let full: string;
    if (name !== undefined) {
      full = scope.prefix + name;
      if (this.layerNames.has(full) || this.instancePrefixes.has(full)) {
        this.report(nameSpan ?? span, messages.duplicateName.layer({ name: full }));
        full = this.generatedName(typed.attrs.op, scope);
      }
    } else {
      full = this.generatedName(typed.attrs.op, scope);
    }
    let paramOwner = full;
    let paramKeyRoot = full;
    if (scope.shared) {
      const inner = full.slice(scope.shared.layerRoot.length);
      const owner = scope.shared.instance.owners.get(inner);
      paramKeyRoot = `${scope.shared.instance.paramRoot}.${inner}`;
      if (owner) paramOwner = owner;
      else scope.shared.instance.owners.set(inner, full);
    }
    const layer: MutableLayer = {
      name: full,
      attrs: typed.attrs,
      inputs: inputs.map((i) => i.value.name),
      inputShapes: inputs.map((i) => i.value.shape),
      shape: typed.shape,
      paramOwner,
      paramShapes: paramOwner === full ? typed.params : [],
      paramKeyRoot,
      macs: typed.macs,
      span,
      ...(doc ? { doc } : {}),
    };
    this.layers.push(layer);
    this.layerNames.set(full, layer);
    return { kind: 'tensor', name: full, shape: typed.shape };
  }

  private generatedName(op: string, scope: Scope): string {
    for (;;) {
      const n = (scope.counters.get(op) ?? 0) + 1;
      scope.counters.set(op, n);
      const candidate = `${scope.prefix}${op}_${n}`;
      if (!this.layerNames.has(candidate)) return candidate;
    }
  }

  // ---- blocks ------------------------------------------------------------------------------

  private applyBlock(block: BlockDecl, args: readonly ArgValue[], inputs: TensorValue[], scope: Scope, name: string | undefined, span: Span, shared: SharedInstance | undefined): TensorValue {
    if (scope.blockStack.includes(block.name.name)) {
      const cycle = [...scope.blockStack.slice(scope.blockStack.indexOf(block.name.name)), block.name.name].join(' -> ');
      return this.stop(span, messages.recursiveBlock.block({ block: block.name.name, cycle }));
    }
    if (scope.blockStack.length >= MAX_BLOCK_DEPTH) {
      return this.abort(span, messages.tooLarge.blockDepth({ max: MAX_BLOCK_DEPTH, outer: scope.blockStack[0], inner: block.name.name }));
    }
    if (inputs.length !== block.inputs.length) {
      return this.stop(span, messages.wrongArguments.blockInputs({ block: block.name.name, inputs: block.inputs.map((i) => i.name), got: inputs.length }));
    }
    const instance = name ?? this.generatedInstanceName(block.name.name, scope);
    const prefix = `${scope.prefix}${instance}.`;
    if (this.instancePrefixes.has(prefix.slice(0, -1)) || this.layerNames.has(prefix.slice(0, -1))) {
      this.report(span, messages.duplicateName.blockInstance({ name: `${scope.prefix}${instance}` }));
    }
    this.instancePrefixes.add(prefix.slice(0, -1));
    const inner = this.newScope(
      prefix,
      false,
      [...scope.blockStack, block.name.name],
      shared ? { instance: shared, layerRoot: prefix } : scope.shared,
    );
    this.bindParams(block, args, inner, span);
    block.inputs.forEach((id, i) => inner.bindings.set(id.name, { kind: 'value', value: inputs[i], span: id.span }));
    inner.current = inputs[0];
    this.body(block.body, inner, () => false);
    // A block whose body failed has no meaningful output: its caller stops quietly, so the error is
    // reported once (not again downstream), and blocks applying broken blocks do not multiply.
    if (inner.failed) throw new ChainStopped();
    const out = inner.returned ?? inner.current;
    if (out === BROKEN) throw new ChainStopped();
    if (!out) return this.stop(block.span, messages.wrongArguments.blockOutput({ block: block.name.name }));
    return out;
  }

  private generatedInstanceName(block: string, scope: Scope): string {
    for (;;) {
      const n = (scope.counters.get(`block:${block}`) ?? 0) + 1;
      scope.counters.set(`block:${block}`, n);
      const candidate = `${block}_${n}`;
      if (!this.instancePrefixes.has(scope.prefix + candidate)) return candidate;
    }
  }

  private bindParams(block: BlockDecl, args: readonly ArgValue[], inner: Scope, span: Span): void {
    const signature = `${block.name.name}(${block.params.map((p) => p.name.name).join(', ')})`;
    if (args.length > block.params.length) {
      this.stop(args[block.params.length].span, messages.wrongArguments.blockParameters({ signature, expected: block.params.length, got: args.length }));
    }
    block.params.forEach((p, i) => {
      const arg = args[i];
      if (arg) {
        if (arg.value.kind === 'tensor') this.stop(arg.span, messages.wrongValueKind.blockParameter({ parameter: p.name.name, signature, got: describeValue(arg.value) }));
        inner.bindings.set(p.name.name, { kind: 'value', value: arg.value, span: arg.span });
      } else if (p.default) {
        inner.bindings.set(p.name.name, { kind: 'value', value: this.eval(p.default, inner), span: p.name.span });
      } else {
        this.stop(span, messages.wrongArguments.blockParameterMissing({ signature, parameter: p.name.name }));
      }
    });
  }

  // ---- expressions -------------------------------------------------------------------------

  private argument(a: Argument, scope: Scope): ArgValue {
    const value = this.eval(a.value, scope);
    return a.name !== undefined ? { name: a.name, value, span: a.span } : { value, span: a.span };
  }

  private tryEval(e: Expr, scope: Scope): Value | undefined {
    try {
      return this.eval(e, scope);
    } catch (err) {
      if (err instanceof ChainStopped) return undefined;
      throw err;
    }
  }

  private tryTensor(e: Expr, scope: Scope, what: string): TensorValue | undefined {
    const v = this.tryEval(e, scope);
    if (!v) return undefined;
    if (v.kind !== 'tensor') {
      this.report(e.span, messages.wrongValueKind.tensor({ what, got: describeValue(v) }));
      return undefined;
    }
    return v;
  }

  private integer(e: Expr, scope: Scope, what: string, min: number): number {
    const v = this.eval(e, scope);
    if (v.kind !== 'number') return this.stop(e.span, messages.wrongValueKind.number({ what, got: describeValue(v) }));
    if (!Number.isInteger(v.value)) return this.stop(e.span, messages.notAnInteger.value({ what, got: formatNumber(v.value) }));
    if (v.value < min) return this.stop(e.span, messages.wrongArguments.atLeast({ what, min, got: v.value }));
    return v.value;
  }

  private eval(e: Expr, scope: Scope, name?: string, nameSpan?: Span): Value {
    switch (e.kind) {
      case 'number':
        return { kind: 'number', value: this.representable(e.value, e.span, e.raw) };
      case 'string':
        return this.stop(e.span, messages.wrongValueKind.string());
      case 'name': {
        const b = scope.bindings.get(e.name);
        if ((b?.kind === 'value' && b.value === POISON) || e.name === ERROR_NAME) throw new ChainStopped();
        if (b?.kind === 'value') return b.value;
        const layer = this.layerNames.get(scope.prefix + e.name);
        if (layer) return { kind: 'tensor', name: layer.name, shape: layer.shape };
        if (b?.kind === 'shared') return this.stop(e.span, messages.wrongValueKind.sharedBlock({ name: e.name }));
        if (SYMBOLS.has(e.name)) return { kind: 'symbol', name: e.name };
        const later = scope.laterNames.get(e.name);
        if (later) this.useBeforeDefinition(e.name, e.span, later);
        if (this.reportedAt('unknownName', e.span)) throw new ChainStopped();
        const guess = didYouMean(e.name, [...scope.bindings.keys(), ...SYMBOLS]);
        return this.stop(e.span, messages.unknownName.value({ name: e.name, guess }));
      }
      case 'negate': {
        const v = this.eval(e.operand, scope);
        if (v.kind !== 'number') return this.stop(e.span, messages.wrongValueKind.negate({ got: describeValue(v) }));
        return { kind: 'number', value: -v.value };
      }
      case 'binary':
        return this.binary(e, scope, name, nameSpan);
      case 'dims': {
        const values = e.items.map((item) => {
          const v = this.eval(item, scope);
          if (v.kind !== 'number') return this.stop(item.span, messages.wrongValueKind.size({ got: describeValue(v) }));
          return v.value;
        });
        return { kind: 'dims', values };
      }
      case 'member': {
        const full = this.memberPath(e);
        if (full === undefined) return this.stop(e.span, messages.wrongValueKind.layerPath());
        const resolved = this.resolveLayerPath(full, scope);
        const layer = this.layerNames.get(resolved);
        if (layer) return { kind: 'tensor', name: layer.name, shape: layer.shape };
        const inner = [...this.layerNames.keys()].filter((n) => n.startsWith(resolved.slice(0, resolved.lastIndexOf('.') + 1))).map((n) => n.slice(resolved.lastIndexOf('.') + 1));
        const guess = didYouMean(full.slice(full.lastIndexOf('.') + 1), inner);
        return this.stop(e.nameSpan, messages.unknownName.layerPath({ path: full, guess: guess === undefined ? undefined : full.slice(0, full.lastIndexOf('.') + 1) + guess }));
      }
      case 'call':
        return this.call(e, scope, name, nameSpan);
      case 'layer':
        return this.stop(e.span, messages.wrongValueKind.layerAsValue({ op: e.op }));
    }
  }

  /**
   * Numbers beyond 2^53 are no longer exact (a size of 1e26 printed as 26x26x1e+26), and 1e999 is
   * infinity: both are refused where they are written.
   */
  private representable(value: number, span: Span, written: string): number {
    if (!Number.isFinite(value)) return this.stop(span, messages.numberOutOfRange.infinite({ written }));
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      return this.stop(span, messages.numberOutOfRange.inexact({ written }));
    }
    return value;
  }

  private memberPath(e: Expr): string | undefined {
    if (e.kind === 'name') return e.name;
    if (e.kind === 'member') {
      const base = this.memberPath(e.object);
      return base === undefined ? undefined : `${base}.${e.name}`;
    }
    return undefined;
  }

  /** `vgg.conv4_2` inside a block instance refers to that instance's own nested layers first. */
  private resolveLayerPath(path: string, scope: Scope): string {
    const local = scope.prefix + path;
    return this.layerNames.has(local) ? local : path;
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, scope: Scope, name: string | undefined, nameSpan: Span | undefined): Value {
    const left = this.eval(e.left, scope);
    const right = this.eval(e.right, scope);
    if (left.kind === 'tensor' && right.kind === 'tensor') {
      if (e.op !== '+' && e.op !== '-') return this.stop(e.span, messages.wrongValueKind.tensorOperator({ operator: e.op }));
      const op = e.op === '+' ? 'add' : 'subtract';
      return this.layerWithInputs(
        LAYERS[op],
        op,
        e.span,
        e.span,
        [],
        [
          { value: left, span: e.left.span },
          { value: right, span: e.right.span },
        ],
        scope,
        name,
        nameSpan,
        undefined,
      );
    }
    if (left.kind !== 'number' || right.kind !== 'number') {
      return this.stop(e.span, messages.wrongValueKind.arithmetic({ left: describeValue(left), operator: e.op, right: describeValue(right) }));
    }
    const a = left.value;
    const b = right.value;
    if ((e.op === '/' || e.op === '%') && b === 0) {
      return this.stop(e.span, messages.divisionByZero.arithmetic({ left: a, operator: e.op, right: b }));
    }
    const value = e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : e.op === '/' ? a / b : a % b;
    return { kind: 'number', value: this.representable(value, e.span, `${a} ${e.op} ${b}`) };
  }

  private call(e: Extract<Expr, { kind: 'call' }>, scope: Scope, name: string | undefined, nameSpan: Span | undefined): Value {
    // `identity(3, 64, 64, 256)(x)`: parameters, then inputs.
    if (e.callee.kind === 'call' && e.callee.callee.kind === 'name' && this.options.blocks.has(e.callee.callee.name)) {
      const block = this.options.blocks.get(e.callee.callee.name)!;
      const params = e.callee.args.map((a) => this.argument(a, scope));
      const inputs = e.args.map((a) => this.tensorArg(a, scope, `input of ${block.name.name}`));
      return this.applyBlock(block, params, inputs, scope, name, e.span, undefined);
    }
    if (e.callee.kind !== 'name') return this.stop(e.callee.span, messages.wrongValueKind.notCallable());
    const callee = e.callee.name;
    const binding = scope.bindings.get(callee);
    if (binding?.kind === 'shared') {
      const inputs = e.args.map((a) => this.tensorArg(a, scope, `input of ${callee}`));
      return this.applyBlock(binding.block, binding.args, inputs, scope, name, e.span, binding);
    }
    if (LAYERS[callee] && !binding) return this.callLayer(e, callee, scope, undefined, name, nameSpan);
    if (this.options.blocks.has(callee)) {
      return this.stop(e.span, messages.wrongArguments.blockNeedsInput({ block: callee }));
    }
    if (LOSSES[callee]) return this.stop(e.span, messages.wrongValueKind.lossAsLayer({ loss: callee }));
    return this.unknownCallee(callee, e.callee.span, scope);
  }

  private tensorArg(a: Argument, scope: Scope, what: string): TensorValue {
    const v = this.eval(a.value, scope);
    if (v.kind !== 'tensor') return this.stop(a.span, messages.wrongValueKind.tensor({ what, got: describeValue(v) }));
    return v;
  }

  // ---- loss, freeze, final graph -----------------------------------------------------------

  private lossTerms(expr: Expr, scope: Scope, outputs: readonly string[]): LossTerm[] {
    const pending: PendingLossTerm[] = [];
    try {
      this.collectLoss(expr, 1, scope, outputs, pending);
    } catch (err) {
      if (!(err instanceof ChainStopped)) throw err;
      return [];
    }
    const terms: LossTerm[] = [];
    for (const p of pending) {
      const spec = LOSSES[p.fn];
      let ok = true;
      const target = spec.check({
        args: p.args,
        options: p.options,
        lists: p.lists ?? {},
        fail: (m) => {
          // After a failed layer the output is not what the file means: its shape proves nothing.
          if (!this.layerFailed) this.report(p.span, m);
          ok = false;
          return false;
        },
      });
      if (!ok || target === false) continue;
      // Terms that need the same kind of target share one feed (GoogLeNet's heads share labels);
      // targets of another shape get a feed of their own, named after the tensor they score.
      let feed = target;
      if (target) {
        const same = terms.find((t) => t.target?.name === target.name);
        if (same && (same.target!.shape.join('x') !== target.shape.join('x') || same.target!.dtype !== target.dtype)) feed = { ...target, name: `${target.name}:${p.args[0].name}` };
      }
      terms.push({
        fn: p.fn,
        weight: p.weight,
        args: p.args.map((a) => a.name),
        argShapes: p.args.map((a) => a.shape),
        options: p.options,
        ...(p.lists ? { lists: p.lists } : {}),
        ...(feed ? { target: feed } : {}),
        span: p.span,
      });
    }
    return terms;
  }

  /** Flattens `a * (b * f(x) + g(y))` into weighted terms. */
  private collectLoss(e: Expr, weight: number, scope: Scope, outputs: readonly string[], out: PendingLossTerm[]): void {
    if (e.kind === 'name' && e.name === ERROR_NAME) throw new ChainStopped();
    if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
      this.collectLoss(e.left, weight, scope, outputs, out);
      this.collectLoss(e.right, e.op === '-' ? -weight : weight, scope, outputs, out);
      return;
    }
    if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) {
      const leftIsTerm = containsLossCall(e.left);
      const rightIsTerm = containsLossCall(e.right);
      if (leftIsTerm && rightIsTerm) this.stop(e.span, messages.lossShape.termProduct());
      if (e.op === '/' && rightIsTerm) this.stop(e.span, messages.lossShape.termDivisor());
      const [termExpr, factorExpr] = leftIsTerm ? [e.left, e.right] : [e.right, e.left];
      const factor = this.eval(factorExpr, scope);
      if (factor.kind !== 'number') this.stop(factorExpr.span, messages.wrongValueKind.lossWeight({ got: describeValue(factor) }));
      if (e.op === '/' && factor.value === 0) this.stop(e.span, messages.divisionByZero.lossWeight());
      this.collectLoss(termExpr, e.op === '/' ? weight / factor.value : weight * factor.value, scope, outputs, out);
      return;
    }
    const fnExpr = e.kind === 'call' ? e.callee : e;
    if (fnExpr.kind !== 'name') this.stop(e.span, messages.lossShape.notATerm());
    const spec = LOSSES[fnExpr.name];
    if (!spec) {
      const guess = didYouMean(fnExpr.name, Object.keys(LOSSES));
      this.stop(fnExpr.span, messages.unknownName.loss({ name: fnExpr.name, guess, losses: Object.keys(LOSSES) }));
    }
    const args: TensorValue[] = [];
    const options: Record<string, number> = { ...spec.options };
    const lists: Record<string, readonly number[]> = { ...spec.lists };
    for (const a of e.kind === 'call' ? e.args : []) {
      if (a.name !== undefined) {
        const isList = spec.lists !== undefined && a.name in spec.lists;
        if (!(a.name in spec.options) && !isList) this.stop(a.span, messages.wrongArguments.lossOption({ loss: fnExpr.name, option: a.name, signature: spec.signature }));
        const v = this.eval(a.value, scope);
        if (isList) {
          // A list of numbers is written as sizes are: `anchors 1 x 1.5 x 2.5 x 1.2`.
          if (v.kind !== 'number' && v.kind !== 'dims') this.stop(a.value.span, messages.wrongValueKind.numberList({ what: a.name, got: describeValue(v) }));
          lists[a.name] = v.kind === 'number' ? [v.value] : v.kind === 'dims' ? v.values : [];
          continue;
        }
        if (v.kind !== 'number') this.stop(a.value.span, messages.wrongValueKind.number({ what: a.name, got: describeValue(v) }));
        options[a.name] = v.value;
      } else {
        args.push(this.tensorArg(a, scope, `argument of ${fnExpr.name}`));
      }
    }
    if (args.length === 0 && spec.minArgs > 0) {
      const first = outputs[0] === undefined ? undefined : this.layerNames.get(outputs[0]);
      const input = outputs[0] === undefined ? undefined : this.inputs.find((i) => i.name === outputs[0]);
      const shape = first?.shape ?? input?.shape;
      if (!shape && scope.current === BROKEN) throw new ChainStopped();
      if (!shape) this.stop(e.span, messages.lossShape.noOutput({ loss: fnExpr.name }));
      args.push({ kind: 'tensor', name: outputs[0], shape });
    }
    if (args.length < spec.minArgs || args.length > spec.maxArgs) {
      this.stop(e.span, messages.wrongArguments.lossArity({ loss: fnExpr.name, min: spec.minArgs, max: spec.maxArgs, got: args.length, signature: spec.signature }));
    }
    out.push({ fn: fnExpr.name, weight, args, options, ...(spec.lists ? { lists } : {}), span: e.span });
  }

  private frozenLayers(freezes: readonly Extract<Statement, { kind: 'freeze' }>[], scope: Scope): Set<string> {
    const frozen = new Set<string>();
    for (const f of freezes) {
      for (const t of f.targets) {
        const path = this.memberPath(t);
        if (path === undefined) {
          this.report(t.span, messages.wrongValueKind.freezeTarget());
          continue;
        }
        const binding = scope.bindings.get(path);
        const target = binding?.kind === 'value' && binding.value.kind === 'tensor' && !this.instancePrefixes.has(path) ? binding.value.name : path;
        const matches = this.layers.filter((l) => l.name === target || l.name.startsWith(`${target}.`) || (binding?.kind === 'shared' && l.paramKeyRoot.startsWith(`${binding.paramRoot}.`)));
        if (matches.length === 0) {
          const guess = didYouMean(path, [...this.layerNames.keys(), ...this.instancePrefixes]);
          this.report(t.span, messages.unknownName.freezeTarget({ path, guess }));
        }
        for (const m of matches) frozen.add(m.paramOwner);
      }
    }
    return frozen;
  }

  private finishLayer(l: MutableLayer, frozen: ReadonlySet<string>): LayerNode {
    const isFrozen = frozen.has(l.paramOwner);
    const params: ParamSpec[] = l.paramShapes.map((p) => ({
      name: `${l.paramKeyRoot}.${PARAM_SUFFIX[p.role]}`,
      role: p.role,
      shape: p.shape,
      trainable: !isFrozen && p.role !== 'running_mean' && p.role !== 'running_var',
    }));
    return {
      name: l.name,
      attrs: l.attrs,
      inputs: l.inputs,
      inputShapes: l.inputShapes,
      shape: l.shape,
      paramOwner: l.paramOwner,
      params,
      macs: l.macs,
      frozen: isFrozen,
      span: l.span,
      ...(l.doc ? { doc: l.doc } : {}),
    };
  }
}

function placeKey(kind: DiagnosticKind, span: Span): string {
  return `${kind}|${span.file}|${span.startOffset}|${span.endOffset}`;
}

function containsLossCall(e: Expr): boolean {
  if (e.kind === 'call') return e.callee.kind === 'name' && e.callee.name in LOSSES;
  if (e.kind === 'name') return e.name in LOSSES;
  if (e.kind === 'binary') return containsLossCall(e.left) || containsLossCall(e.right);
  if (e.kind === 'negate') return containsLossCall(e.operand);
  return false;
}

/** Names a body binds (targets, inputs, shares), with where; for use-before-definition errors. */
function collectBoundNames(statements: readonly Statement[]): Map<string, Span> {
  const names = new Map<string, Span>();
  for (const st of statements) {
    if (st.kind === 'chain' && st.target && !names.has(st.target.name)) names.set(st.target.name, st.target.span);
    if ((st.kind === 'input' || st.kind === 'share') && !names.has(st.name.name)) names.set(st.name.name, st.name.span);
  }
  return names;
}
