// What is generated from the layer definitions: the parser's keyword-argument set
// (grammar/keyword-args.ts, which the front end cannot import from the compiler) and the layer
// table of the language reference (docs/language.md). scripts/layer-reference.ts writes both;
// test/language/layer-definitions.test.ts fails when either is out of date.

import { LOSSES } from '../checker/loss.ts';
import { DEFINITIONS } from './index.ts';

export const REFERENCE_BEGIN = '<!-- layer table: generated from compiler/layers/ by `node bin/run-ts.js scripts/layer-reference.ts` -->';
export const REFERENCE_END = '<!-- end of layer table -->';

/** Every keyword argument a layer or a loss function takes, sorted. */
export function keywordArguments(): string[] {
  const words = new Set<string>();
  for (const d of DEFINITIONS) for (const k of d.keywords) words.add(k);
  for (const loss of Object.values(LOSSES)) for (const k of [...Object.keys(loss.options), ...Object.keys(loss.lists ?? {})]) words.add(k);
  return [...words].sort();
}

export function keywordArgumentsSource(): string {
  return [
    '// Generated from the layer definitions (compiler/layers/) and the loss functions by',
    '// `node bin/run-ts.js scripts/layer-reference.ts`; a test fails when it is out of date.',
    '',
    '/** Keyword-argument names: `stride 2`, `pad same`. Only these may precede a value without a comma. */',
    'export const KEYWORD_ARGS: ReadonlySet<string> = new Set([',
    ...keywordArguments().map((k) => `  '${k}',`),
    ']);',
    '',
  ].join('\n');
}

/** The language reference's table: one row per definition. */
export function layerTable(): string {
  const rows = DEFINITIONS.map((d) => {
    const r = d.reference;
    return `| ${d.names.map((n) => `\`${n}\``).join(', ')} | ${r.example} | ${r.output} | ${r.parameters} | ${r.macs} |`;
  });
  const signatures = DEFINITIONS.map((d) => `- \`${d.signature}\`: ${d.doc}`);
  return [REFERENCE_BEGIN, '| layer | example | output shape | parameters | MACs |', '| --- | --- | --- | --- | --- |', ...rows, '', 'Signatures (as completion and hover show them):', '', ...signatures, REFERENCE_END].join('\n');
}

/** `text` (docs/language.md) with its layer table replaced by the generated one. */
export function withLayerTable(text: string): string {
  const begin = text.indexOf(REFERENCE_BEGIN);
  const end = text.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error('docs/language.md has no generated layer table markers');
  return text.slice(0, begin) + layerTable() + text.slice(end + REFERENCE_END.length);
}
