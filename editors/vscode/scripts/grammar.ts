// Builds the TextMate grammar of .cnn from the compiler's own tables (keywords, layer names, loss
// functions, keyword arguments), so highlighting never drifts from the language.
// `node bin/run-ts.js editors/vscode/scripts/grammar.ts` rewrites syntaxes/cnn.tmLanguage.json.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LAYERS } from '../../../compiler/layers/index.ts';
import { LOSSES } from '../../../compiler/checker/loss.ts';
import { SYMBOLS } from '../../../compiler/checker/values.ts';
import { KEYWORD_ARGS } from '../../../grammar/keyword-args.ts';
import { keywordTokens } from '../../../grammar/tokens.ts';

export const GRAMMAR_PATH = fileURLToPath(new URL('../syntaxes/cnn.tmLanguage.json', import.meta.url));

const words = (list: Iterable<string>) => `\\b(?:${[...list].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)).join('|')})\\b`;

export function keywordNames(): string[] {
  return keywordTokens.map((t) => t.name.toLowerCase());
}

export function cnnGrammar(): Record<string, unknown> {
  const declarations = ['model', 'block'];
  return {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'CNN',
    scopeName: 'source.cnn',
    fileTypes: ['cnn'],
    patterns: [
      { include: '#comments' },
      { include: '#declarations' },
      { include: '#strings' },
      { include: '#keywords' },
      { include: '#layers' },
      { include: '#losses' },
      { include: '#arguments' },
      { include: '#numbers' },
      { include: '#operators' },
    ],
    repository: {
      comments: {
        patterns: [
          { name: 'comment.line.documentation.cnn', match: '///.*$' },
          { name: 'comment.line.double-slash.cnn', match: '//.*$' },
          { name: 'comment.block.cnn', begin: '/\\*', end: '\\*/' },
        ],
      },
      declarations: {
        match: `\\b(${declarations.join('|')})\\s+([A-Za-z_][A-Za-z0-9_]*)`,
        captures: { 1: { name: 'storage.type.cnn' }, 2: { name: 'entity.name.type.cnn' } },
      },
      strings: { name: 'string.quoted.double.cnn', match: '"[^"\\n]*"' },
      keywords: { name: 'keyword.control.cnn', match: words(keywordNames().filter((k) => !declarations.includes(k))) },
      layers: { name: 'support.function.layer.cnn', match: words(Object.keys(LAYERS)) },
      losses: { name: 'support.function.loss.cnn', match: words(Object.keys(LOSSES)) },
      arguments: {
        patterns: [
          { name: 'variable.parameter.keyword.cnn', match: words(KEYWORD_ARGS) },
          { name: 'constant.language.cnn', match: words(SYMBOLS) },
        ],
      },
      numbers: {
        patterns: [
          // `5x5`, `3x3x3`: a size glued together.
          { name: 'constant.numeric.size.cnn', match: '\\b\\d+(?:x\\d+)+\\b' },
          { name: 'constant.numeric.cnn', match: '\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b' },
        ],
      },
      operators: {
        patterns: [
          { name: 'keyword.operator.arrow.cnn', match: '->' },
          { name: 'keyword.operator.range.cnn', match: '\\.\\.' },
          { name: 'keyword.operator.by.cnn', match: '\\bx\\b' },
          { name: 'keyword.operator.arithmetic.cnn', match: '[+\\-*/%=]' },
        ],
      },
    },
  };
}

export function grammarText(): string {
  return `${JSON.stringify(cnnGrammar(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(GRAMMAR_PATH, grammarText());
  process.stdout.write(`wrote ${GRAMMAR_PATH}\n`);
}
