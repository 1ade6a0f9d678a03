// The standard library's figures: each model's parameters counted from its typed graph, beside
// the reference implementation's counts (test/stdlib/reference-params.json, written by
// scripts/reference_params.py), with MACs and activation memory from the summary.
//
// `node bin/run-ts.js test/stdlib/figures.ts` prints the markdown rows that docs/stdlib.md
// carries; with `--write-docs` it refreshes those rows and the quoted summaries in place. The
// tests check that the document still says what the models compute.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../../compiler/program.ts';
import type { Diagnostic } from '../../grammar/diagnostics.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { formatSummary, summarize } from '../../compiler/summary.ts';
import { groupDigits, humanBytes, humanCount, product } from '../../compiler/checker/values.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE = resolve(REPO, 'test/stdlib/reference-params.json');

export interface ParamCounts {
  readonly total: number;
  readonly trainable: number;
  readonly nonTrainable: number;
}

export interface Reference extends ParamCounts {
  /** Repository-relative path of the .cnn file. */
  readonly file: string;
  readonly model: string;
  /** Where the reference figures come from (torchvision, the course, a torch rebuild). */
  readonly source: string;
  /** PyTorch's `parameters()` alone, without batchnorm running statistics. */
  readonly torchParameters: number;
}

export interface ModelFigures {
  readonly key: string;
  readonly reference: Reference;
  readonly graph: ModelGraph;
  readonly diagnostics: readonly Diagnostic[];
  /** Counted from graph.layers[].params: shape products, split by the trainable flag. */
  readonly ours: ParamCounts;
  readonly macs: number;
  readonly activationBytes: number;
}

export function loadReferences(): Record<string, Reference> {
  const parsed = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { models: Record<string, Reference> };
  return parsed.models;
}

/** Parameter counts straight from the graph, independent of the summary module. */
export function countParams(graph: ModelGraph): ParamCounts {
  let total = 0;
  let trainable = 0;
  for (const layer of graph.layers) {
    for (const p of layer.params) {
      const n = product(p.shape);
      total += n;
      if (p.trainable) trainable += n;
    }
  }
  return { total, trainable, nonTrainable: total - trainable };
}

export function figuresFor(key: string, reference: Reference): ModelFigures {
  const result = compileModel({ file: resolve(REPO, reference.file), model: reference.model });
  if (!result.graph) {
    const first = result.diagnostics[0];
    throw new Error(`${reference.file} model ${reference.model} did not compile: ${first ? first.message : 'no graph'}`);
  }
  const summary = summarize(result.graph);
  return {
    key,
    reference,
    graph: result.graph,
    diagnostics: result.diagnostics,
    ours: countParams(result.graph),
    macs: summary.totals.macs,
    activationBytes: summary.totals.activationBytes,
  };
}

function sameOrBoth(ours: number, reference: number): string {
  return ours === reference ? groupDigits(ours) : `${groupDigits(ours)} (ref. ${groupDigits(reference)})`;
}

/** One markdown table row: model, params (ours = reference), trainable, non-trainable, MACs, memory. */
export function docRow(f: ModelFigures): string {
  const r = f.reference;
  const cells = [
    `\`${r.model}\``,
    sameOrBoth(f.ours.total, r.total),
    sameOrBoth(f.ours.trainable, r.trainable),
    sameOrBoth(f.ours.nonTrainable, r.nonTrainable),
    f.ours.total === r.total && f.ours.trainable === r.trainable ? 'exact' : 'differs',
    `${humanCount(f.macs)}`,
    `${humanBytes(f.activationBytes)}`,
    r.source,
  ];
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

export const DOC_HEADER = [
  '| model | params | trainable | non-trainable | vs reference | MACs | activations / example | reference |',
  '| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |',
];

/** Summaries quoted in the docs: fenced `text` blocks that start `Model: Name (stdlib/file.cnn)`. */
export const QUOTED_SUMMARY = /```text\n(Model: (\w+) \((stdlib\/[\w.]+)\)\n[\s\S]*?)\n```/g;

export function currentSummary(model: string, file: string): string {
  const result = compileModel({ file: resolve(REPO, file), model });
  if (!result.graph) throw new Error(`${file} model ${model} did not compile`);
  return formatSummary(summarize(result.graph), file);
}

/** docs/stdlib.md with every model row and quoted summary recomputed. */
export function refreshDoc(doc: string): string {
  const rows = new Map<string, string>();
  for (const [key, ref] of Object.entries(loadReferences())) rows.set(ref.model, docRow(figuresFor(key, ref)));
  const withRows = doc
    .split('\n')
    .map((line) => {
      const model = /^\| `(\w+)` \|/.exec(line)?.[1];
      return model && rows.has(model) ? rows.get(model)! : line;
    })
    .join('\n');
  return withRows.replace(QUOTED_SUMMARY, (_all, _block, model: string, file: string) => `\`\`\`text\n${currentSummary(model, file)}\n\`\`\``);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write-docs')) {
    const path = resolve(REPO, 'docs/stdlib.md');
    writeFileSync(path, refreshDoc(readFileSync(path, 'utf8')));
  } else {
    console.log(DOC_HEADER.join('\n'));
    for (const [key, ref] of Object.entries(loadReferences())) console.log(docRow(figuresFor(key, ref)));
  }
}
