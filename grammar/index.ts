// Text -> AST with every lexer and parser error as a diagnostic. Never throws: an editor calls it on
// every keystroke, with whatever half-typed text is in the buffer.

import type { IToken, TokenType } from 'chevrotain';
import type { SourceFile } from './ast.ts';
import { AstBuilder } from './cst-to-ast.ts';
import { diagnostic, messages, type Diagnostic } from './diagnostics.ts';
import { spanAt } from './span.ts';
import { cnnParser } from './parser.ts';
import { sniffEncoding } from './sniff.ts';
import { tokenText } from './token-names.ts';
import { cnnLexer, layoutNewlines, LBrace, LParen, RBrace, RParen, UnterminatedComment } from './tokens.ts';

export interface ParseResult {
  readonly source: SourceFile;
  readonly diagnostics: Diagnostic[];
  /** Significant tokens, for editors (semantic tokens, completion context). */
  readonly tokens: readonly IToken[];
}

/**
 * How deeply `(` and `{` may nest. The parser, the AST builder, the checker and the formatter
 * recurse once per level; a bound keeps them far inside the JavaScript stack.
 */
export const MAX_NESTING = 64;

function describe(token: IToken): string {
  if (token.tokenType.name === 'EOF') return 'end of file';
  if (token.tokenType.name === 'Newline') return 'end of line';
  return `'${token.image}'`;
}

/** The first bracket that opens level MAX_NESTING + 1, if any. */
function tooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    const type: TokenType = t.tokenType;
    if (type === LParen || type === LBrace) {
      depth++;
      if (depth > MAX_NESTING) return t;
    } else if (type === RParen || type === RBrace) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function unparsed(file: string, text: string, diagnostics: Diagnostic[]): ParseResult {
  return { source: { file, text, declarations: [] }, diagnostics, tokens: [] };
}

/** Chevrotain's `Expecting token of type --> RBrace <-- but found --> 'x' <--` as `expected '}'`. */
function expectation(message: string): string | undefined {
  const m = /^Expecting token of type --> (\w+) <--/.exec(message);
  return m ? tokenText(m[1]) : undefined;
}

export function parseSource(text: string, file: string): ParseResult {
  const encoding = sniffEncoding(text);
  if (encoding) return unparsed(file, text, [diagnostic(spanAt(file, text, 0, 0), encoding)]);
  const diagnostics: Diagnostic[] = [];
  const lexed = cnnLexer.tokenize(text);
  for (const e of lexed.errors) {
    diagnostics.push(diagnostic(spanAt(file, text, e.offset, e.length), messages.lexError.unexpectedCharacter({ text: text.substr(e.offset, e.length) })));
  }
  const unterminated = lexed.tokens.find((t) => t.tokenType === UnterminatedComment);
  if (unterminated) {
    diagnostics.push(diagnostic(spanAt(file, text, unterminated.startOffset, 2), messages.lexError.unterminatedComment()));
  }
  const significant = layoutNewlines(lexed.tokens.filter((t) => t.tokenType !== UnterminatedComment));
  const deep = tooDeep(significant);
  if (deep) {
    diagnostics.push(diagnostic(spanAt(file, text, deep.startOffset, 1), messages.tooDeep.nesting({ max: MAX_NESTING })));
    return unparsed(file, text, diagnostics);
  }
  cnnParser.input = significant;
  const cst = cnnParser.file();
  const builder = new AstBuilder(file, new Map((lexed.groups.docs ?? []).map((t) => [t.startLine ?? 0, t.image.slice(3).trim()])));
  for (const e of cnnParser.errors) {
    const tok = e.token;
    // Everything after an unclosed `/*` is comment: what the parser misses there follows from it.
    if (unterminated && (Number.isNaN(tok.startOffset) || tok.tokenType.name === 'EOF' || tok.startOffset >= unterminated.startOffset)) continue;
    const span = Number.isNaN(tok.startOffset) ? spanAt(file, text, text.length, 0) : builder.tokenSpan(tok);
    const expected = e.name === 'MismatchedTokenException' ? expectation(e.message) : undefined;
    // `(3, 3)` or `(28, 28, 1)`: a size written as a tuple.
    const sizeAsTuple = expected === "')'" && tok.image === ',';
    diagnostics.push(diagnostic(span, messages.syntaxError.unexpectedToken({ ...(expected ? { expected } : {}), found: describe(tok), sizeAsTuple })));
  }
  const declarations = builder.declarations(cst).map((d) => d.decl);
  diagnostics.push(...builder.problems);
  // Left-over tokens are one error per line, unless the parser already reported that line.
  const reported = new Set(diagnostics.map((d) => d.span.startLine));
  for (const tok of builder.strays) {
    if (reported.has(tok.startLine ?? 0)) continue;
    reported.add(tok.startLine ?? 0);
    diagnostics.push(diagnostic(builder.tokenSpan(tok), messages.syntaxError.strayToken({ found: describe(tok) })));
  }
  return { source: { file, text, declarations }, diagnostics, tokens: significant };
}
