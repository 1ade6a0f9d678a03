// Which layers of the checked graph come from which stage of the source. Layer names are paths:
// `res2a.conv_1` is layer `conv_1` of the block instance `res2a`. In one scope (the model, or one
// block instance) a layer written there has its span in that declaration, and a block call makes
// a run of layers under one instance name, matched in order to the block-call stage that names it
// (`as layer1`, `layer1_2` in a loop, or `identity_3` when unnamed). Scopes nest, so stages inside
// blocks get outputs too: one per instance, shown when every instance agrees.

import type { BlockDecl, Expr, ModelDecl } from '../grammar/ast.ts';
import type { LayerNode, ModelGraph } from '../compiler/graph.ts';
import type { Span } from '../grammar/span.ts';
import type { Analysis } from './analysis.ts';
import { bodyDecls, forEachStatement, stagesOf } from './syntax.ts';

export interface StageOutput {
  /** The stage in this document. */
  readonly span: Span;
  /** The layer whose output the stage produces (a block call's last layer; in a loop, the last iteration's). */
  readonly layer: LayerNode;
  /** Every layer the stage created (in one instance, one iteration). */
  readonly layers: readonly LayerNode[];
  readonly graph: ModelGraph;
  /** Output shapes of every instance of the enclosing block (one entry in a model). */
  readonly instances: number;
}

interface StageInfo {
  readonly span: Span;
  readonly inLoop: boolean;
  /** The block a stage calls, if it calls one. */
  readonly callee?: string;
  /** The name its instance gets: `as name`, or the chain's target for its last stage. */
  readonly name?: string;
}

function inside(span: Span, outer: Span): boolean {
  return span.file === outer.file && span.startOffset >= outer.startOffset && span.endOffset <= outer.endOffset;
}

/** `identity(3, 64)`, `identity(3, 64)(x)`, `resnet_stem`: the name a stage calls or names. */
function calleeOf(e: Expr): string | undefined {
  if (e.kind === 'name') return e.name;
  if (e.kind === 'call') return e.callee.kind === 'name' ? e.callee.name : calleeOf(e.callee);
  return undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An instance named `head` comes from this stage: its own name, that name with loop counters, or the block's with a counter. */
function matches(stage: StageInfo, head: string): boolean {
  if (stage.name !== undefined) return head === stage.name || (stage.inLoop && new RegExp(`^${escape(stage.name)}(_\\d+)+$`).test(head));
  return stage.callee !== undefined && new RegExp(`^${escape(stage.callee)}_\\d+$`).test(head);
}

function stagesIn(decl: ModelDecl | BlockDecl, blocks: ReadonlyMap<string, BlockDecl>): StageInfo[] {
  const out: StageInfo[] = [];
  // `share enc = block(args)`: applying `enc` applies that block.
  const shared = new Map<string, string>();
  forEachStatement(decl.body, (st) => {
    const callee = st.kind === 'share' ? calleeOf(st.value) : undefined;
    if (st.kind === 'share' && callee !== undefined) shared.set(st.name.name, callee);
  });
  forEachStatement(decl.body, (st, inLoop) => {
    const list = stagesOf(st);
    list.forEach((s, i) => {
      const written = calleeOf(s.expr);
      const callee = written === undefined ? undefined : (shared.get(written) ?? written);
      const name = s.alias?.name ?? (st.kind === 'chain' && i === list.length - 1 ? st.target?.name : undefined);
      out.push({ span: s.span, inLoop, ...(callee !== undefined && blocks.has(callee) ? { callee } : {}), ...(name !== undefined ? { name } : {}) });
    });
  });
  return out;
}

/** The stage whose span holds `span`: stages are in source order, so a binary search finds it. */
function stageHolding(stages: readonly StageInfo[], span: Span): StageInfo | undefined {
  let lo = 0;
  let hi = stages.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (stages[mid].span.startOffset <= span.startOffset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  // Nested stages do not occur, but a stage may start where the previous ends: look back a little.
  for (let i = found; i >= 0 && i >= found - 2; i--) if (inside(span, stages[i].span)) return stages[i];
  return undefined;
}

type Item = { kind: 'direct'; layer: LayerNode } | { kind: 'instance'; head: string; layers: LayerNode[] };

/** The layers of one scope: its own, and runs of nested instances by their first name segment. */
function itemsOf(layers: readonly LayerNode[], prefix: string): Item[] {
  const out: Item[] = [];
  for (const layer of layers) {
    if (!layer.name.startsWith(prefix)) continue;
    const rest = layer.name.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot < 0) {
      out.push({ kind: 'direct', layer });
      continue;
    }
    const head = rest.slice(0, dot);
    const last = out[out.length - 1];
    if (last?.kind === 'instance' && last.head === head) last.layers.push(layer);
    else out.push({ kind: 'instance', head, layers: [layer] });
  }
  return out;
}

interface Collected {
  readonly span: Span;
  readonly outputs: { layer: LayerNode; layers: LayerNode[] }[];
  readonly graph: ModelGraph;
}

/** Walks one scope of a graph against its declaration, recording stage outputs and descending into block instances. */
function walkScope(graph: ModelGraph, layers: readonly LayerNode[], prefix: string, decl: ModelDecl | BlockDecl, blocks: ReadonlyMap<string, BlockDecl>, collected: Map<string, Collected>, depth: number): void {
  if (depth > 32) return;
  const stages = stagesIn(decl, blocks);
  const blockStages = stages.filter((s) => s.callee !== undefined);
  const record = (stage: StageInfo, made: LayerNode[], fresh: boolean) => {
    const key = `${stage.span.file}:${stage.span.startOffset}:${stage.span.endOffset}`;
    const entry = collected.get(key) ?? { span: stage.span, outputs: [], graph };
    collected.set(key, entry);
    // In one scope a stage in a loop shows its last iteration: replace rather than add.
    const output = { layer: made[made.length - 1], layers: made };
    if (fresh || entry.outputs.length === 0) entry.outputs.push(output);
    else entry.outputs[entry.outputs.length - 1] = output;
  };
  const seen = new Set<StageInfo>();
  let next = 0;
  let previousDirect: StageInfo | undefined;
  let previousLayers: LayerNode[] = [];
  for (const item of itemsOf(layers, prefix)) {
    if (item.kind === 'direct') {
      const stage = stageHolding(stages, item.layer.span);
      if (!stage) continue;
      // Several layers from one stage (`relu(y + x)` makes add and relu) form one output.
      const sameStage = stage === previousDirect;
      previousLayers = sameStage ? [...previousLayers, item.layer] : [item.layer];
      record(stage, previousLayers, !seen.has(stage));
      seen.add(stage);
      previousDirect = stage;
      continue;
    }
    previousDirect = undefined;
    let k = next;
    const current = blockStages[next - 1];
    if (!(current?.inLoop && matches(current, item.head))) {
      while (k < blockStages.length && !matches(blockStages[k], item.head)) k++;
      if (k === blockStages.length) continue;
      next = k + 1;
    }
    const stage = blockStages[next - 1];
    record(stage, item.layers, !seen.has(stage));
    seen.add(stage);
    const block = stage.callee === undefined ? undefined : blocks.get(stage.callee);
    if (block) walkScope(graph, item.layers, `${prefix}${item.head}.`, block, blocks, collected, depth + 1);
  }
}

/** Stage outputs of the document's models and of its blocks (where their instances agree), in source order. */
export function stageOutputs(analysis: Analysis): StageOutput[] {
  const collected = new Map<string, Collected>();
  for (const decl of bodyDecls(analysis.source)) {
    if (decl.kind !== 'model') continue;
    const graph = analysis.graphs.find((g) => g.name === decl.name.name && g.span.startOffset === decl.span.startOffset);
    if (graph) walkScope(graph, graph.layers, '', decl, analysis.program.blocks, collected, 0);
  }
  const out: StageOutput[] = [];
  for (const { span, outputs, graph } of collected.values()) {
    if (span.file !== analysis.path || outputs.length === 0) continue;
    const shape = outputs[0].layer.shape.join('x');
    if (!outputs.every((o) => o.layer.shape.join('x') === shape)) continue;
    out.push({ span, layer: outputs[0].layer, layers: outputs[0].layers, graph, instances: outputs.length });
  }
  return out.sort((a, b) => a.span.startOffset - b.span.startOffset);
}
