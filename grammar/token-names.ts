// Token types as a person reads them in a message: `'}'`, "end of file", "a name", never the
// grammar's internal names (`RBrace`, `EOF`, `Identifier`).

import { allTokens, keywordTokens } from './tokens.ts';

const WORDS: Readonly<Record<string, string>> = {
  EOF: 'end of file',
  Newline: 'end of line',
  Identifier: 'a name',
  NumberLiteral: 'a number',
  StringLiteral: 'a string',
  Cross: "'x'",
  Arrow: "'->'",
  DotDot: "'..'",
  Dot: "'.'",
  Comma: "','",
  Colon: "':'",
  Equals: "'='",
  Plus: "'+'",
  Minus: "'-'",
  Star: "'*'",
  Slash: "'/'",
  Percent: "'%'",
  LParen: "'('",
  RParen: "')'",
  LBrace: "'{'",
  RBrace: "'}'",
};

const KEYWORDS = new Map(keywordTokens.map((t) => [t.name, `'${t.name.toLowerCase()}'`]));

/** The readable form of a token type's name; unknown names are returned as they are. */
export function tokenText(typeName: string): string {
  return WORDS[typeName] ?? KEYWORDS.get(typeName) ?? typeName;
}

/** Every token type has a readable form (checked by a test, so a new token cannot leak its name). */
export function unnamedTokenTypes(): string[] {
  return allTokens.map((t) => t.name).filter((n) => tokenText(n) === n && !['WhiteSpace', 'DocComment', 'LineComment', 'BlockComment', 'UnterminatedComment', 'Stray'].includes(n));
}
