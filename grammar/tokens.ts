// Tokens of the .cnn language. Newlines are significant (one statement per line), so the lexer keeps
// them and `layoutNewlines` drops the ones that cannot end a statement (inside parentheses, after an
// operator, before a continuation line that starts with `->`).

import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier });
}

export const Import = keyword('import');
export const Model = keyword('model');
export const Block = keyword('block');
export const Input = keyword('input');
export const Output = keyword('output');
export const Loss = keyword('loss');
export const Return = keyword('return');
export const Freeze = keyword('freeze');
export const Share = keyword('share');
export const Repeat = keyword('repeat');
export const For = keyword('for');
export const In = keyword('in');
export const As = keyword('as');
export const Trainable = keyword('trainable');

/** The `x` of `5x5` (glued to a digit). A free-standing `x` is an Identifier the parser reads as "by". */
export const Cross = createToken({
  name: 'Cross',
  pattern: {
    exec(text: string, offset: number): RegExpExecArray | null {
      const prev = offset > 0 ? text.charCodeAt(offset - 1) : 0;
      if (text[offset] !== 'x' || prev < 48 || prev > 57) return null;
      const match = ['x'] as unknown as RegExpExecArray;
      match.index = offset;
      return match;
    },
  },
  line_breaks: false,
  start_chars_hint: ['x'],
});

export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"[^"\n]*"/ });
export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const Newline = createToken({ name: 'Newline', pattern: /\r?\n/, line_breaks: true });

export const DocComment = createToken({ name: 'DocComment', pattern: /\/\/\/[^\n]*/, group: 'docs' });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  line_breaks: true,
  group: Lexer.SKIPPED,
});
/** An unclosed `/*`: one error naming it, instead of one per character of what follows. */
export const UnterminatedComment = createToken({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, line_breaks: true });
// A carriage return is blank space (the `\n` of CRLF ends the line); so is the byte-order mark
// Windows editors write at the start of a UTF-8 file.
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\uFEFF]+/, group: Lexer.SKIPPED });

/**
 * Every token that cannot end a statement belongs to this category, so the grammar can skip what a
 * broken statement left over (`conv 8, 3x3 same`) up to the line's end and go on with the next.
 */
export const Stray = createToken({ name: 'Stray', pattern: Lexer.NA });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Newline,
  DocComment,
  LineComment,
  BlockComment,
  UnterminatedComment,
  Arrow,
  StringLiteral,
  NumberLiteral,
  Cross,
  Import,
  Model,
  Block,
  Input,
  Output,
  Loss,
  Return,
  Freeze,
  Share,
  Repeat,
  For,
  In,
  As,
  Trainable,
  Identifier,
  DotDot,
  Dot,
  Comma,
  Colon,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  LParen,
  RParen,
  LBrace,
  RBrace,
  Stray,
];

for (const t of allTokens) {
  if (t !== Stray && t !== Newline && t !== LBrace && t !== RBrace && t.GROUP === undefined) t.CATEGORIES = [Stray];
}

export const keywordTokens = [Import, Model, Block, Input, Output, Loss, Return, Freeze, Share, Repeat, For, In, As, Trainable];

// Only `\n` ends a line: counting the `\r` of CRLF too would put every later line at 2n-1.
export const cnnLexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: 'full', lineTerminatorsPattern: /\n/g, lineTerminatorCharacters: ['\n'] });

const continuesAfter = new Set<TokenType>([Arrow, Comma, Equals, Plus, Minus, Star, Slash, Percent, LParen, Colon, DotDot, Dot]);
const continuesBefore = new Set<TokenType>([Arrow, RParen, Comma]);

/**
 * Keep only the newlines that end a statement: none inside parentheses, none after a token that
 * needs a right-hand side, none before a line that continues the previous one, and one per run.
 */
export function layoutNewlines(tokens: readonly IToken[]): IToken[] {
  const out: IToken[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const type = tok.tokenType;
    if (type === LParen) depth++;
    if (type === RParen) depth = Math.max(0, depth - 1);
    if (type !== Newline) {
      out.push(tok);
      continue;
    }
    if (depth > 0) continue;
    const prev = out[out.length - 1];
    if (!prev || prev.tokenType === Newline || prev.tokenType === LBrace || continuesAfter.has(prev.tokenType)) continue;
    let j = i + 1;
    while (j < tokens.length && tokens[j].tokenType === Newline) j++;
    if (j < tokens.length && continuesBefore.has(tokens[j].tokenType)) continue;
    out.push(tok);
  }
  return out;
}
