// The prettier 3 plugin for .cnn files: `prettier.format(text, { parser: 'cnn', plugins: [cnnPlugin] })`.
// The parser checks the syntax and keeps the text; the printer returns formatCnn's output, which
// is already a finished layout (the author's line breaks stay, so there is no line fitting to do).

import type { Parser, Plugin, Printer, SupportLanguage } from 'prettier';
import { formatDiagnostic } from '../../grammar/diagnostics.ts';
import { formatCnn } from './printer.ts';

interface CnnRoot {
  readonly type: 'cnn-root';
  readonly text: string;
  readonly formatted: string;
}

const languages: SupportLanguage[] = [{ name: 'cnn', parsers: ['cnn'], extensions: ['.cnn'], vscodeLanguageIds: ['cnn'] }];

const parser: Parser<CnnRoot> = {
  astFormat: 'cnn-ast',
  parse(text, options) {
    const file = typeof options.filepath === 'string' ? options.filepath : 'input.cnn';
    const result = formatCnn(text, file);
    if (!result.ok) throw new SyntaxError(`cannot format ${file}: it has syntax errors\n${result.errors.map(formatDiagnostic).join('\n')}`);
    return { type: 'cnn-root', text, formatted: result.text };
  },
  locStart: () => 0,
  locEnd: (node: CnnRoot) => node.text.length,
};

const printer: Printer<CnnRoot> = {
  print(path) {
    return path.node.formatted;
  },
};

export const cnnPlugin: Plugin<CnnRoot> = {
  languages,
  parsers: { cnn: parser },
  printers: { 'cnn-ast': printer },
};

/** Formats .cnn text through prettier with this plugin (what `cnnc fmt` runs). */
export async function formatWithPrettier(text: string, filepath?: string): Promise<string> {
  const prettier = await import('prettier');
  return prettier.format(text, { parser: 'cnn', plugins: [cnnPlugin], ...(filepath ? { filepath } : {}) });
}
