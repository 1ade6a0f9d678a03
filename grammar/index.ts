// Text -> AST with every lexer and parser error as a diagnostic. Never throws: an editor calls it on
// every keystroke, with whatever half-typed text is in the buffer.

import type { IToken } from 'chevrotain';
import type { SourceFile } from '../compiler/ast.ts';
import { AstBuilder } from '../compiler/cst-to-ast.ts';
import { diagnostic, type Diagnostic } from '../compiler/diagnostics.ts';
import { spanAt } from '../compiler/span.ts';
import { cnnParser } from './parser.ts';
import { cnnLexer, layoutNewlines } from './tokens.ts';

export interface ParseResult {
  readonly source: SourceFile;
  readonly diagnostics: Diagnostic[];
  /** Significant tokens, for editors (semantic tokens, completion context). */
  readonly tokens: readonly IToken[];
}

function describe(token: IToken): string {
  if (token.tokenType.name === 'EOF') return 'end of file';
  if (token.tokenType.name === 'Newline') return 'end of line';
  return `'${token.image}'`;
}

export function parseSource(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = cnnLexer.tokenize(text);
  for (const e of lexed.errors) {
    diagnostics.push(diagnostic('lexError', spanAt(file, text, e.offset, e.length), `unexpected character '${text.substr(e.offset, e.length)}'`));
  }
  const significant = layoutNewlines(lexed.tokens);
  cnnParser.input = significant;
  const cst = cnnParser.file();
  const builder = new AstBuilder(file, new Map((lexed.groups.docs ?? []).map((t) => [t.startLine ?? 0, t.image.slice(3).trim()])));
  for (const e of cnnParser.errors) {
    const tok = e.token;
    const span = Number.isNaN(tok.startOffset) ? spanAt(file, text, text.length, 0) : builder.tokenSpan(tok);
    const expected = e.name === 'MismatchedTokenException' ? e.message.replace(/^Expecting token of type --> (\w+) <--.*$/s, 'expected $1') : 'unexpected';
    diagnostics.push(diagnostic('syntaxError', span, `syntax error: ${expected === 'unexpected' ? 'unexpected' : expected + ', found'} ${describe(tok)}`));
  }
  const declarations = builder.declarations(cst).map((d) => d.decl);
  return { source: { file, text, declarations }, diagnostics, tokens: significant };
}
