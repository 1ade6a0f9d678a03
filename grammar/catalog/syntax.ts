// CNN0xx: text that is not a program (bad characters, syntax, nesting, an empty file).

import { exampleModel, message, type CodeEntry } from './entry.ts';

export const SYNTAX = {
  lexError: {
    code: 'CNN001',
    severity: 'error',
    title: 'A character that is not part of the language, an unclosed `/*`, or a file that is not UTF-8 text.',
    example: { source: exampleModel('  conv 8, 3x3 $') },
    messages: {
      unexpectedCharacter: message((p: { text: string }) => `unexpected character '${p.text}'`),
      unterminatedComment: message(
        () => 'unterminated comment: this `/*` has no closing `*/`',
        () => 'close it with `*/`, or use `//` for a one-line comment',
      ),
      utf16: message(() => 'this file is UTF-16 text, not UTF-8; save it as UTF-8 (in most editors: "Save with encoding" > UTF-8)'),
      binary: message((p: { hasNul: boolean }) => `this is a binary file (${p.hasNul ? 'it contains NUL bytes' : 'it is not UTF-8 text'}), not .cnn source`),
    },
  },
  syntaxError: {
    code: 'CNN002',
    severity: 'error',
    title: 'The tokens do not form a statement; the parser recovers at the next line.',
    example: { source: exampleModel('  conv 8, (3, 3)') },
    messages: {
      /** What the parser expected (`')'`), if it knows, and the token it found (`','`). */
      unexpectedToken: message(
        (p: { expected?: string; found: string; sizeAsTuple: boolean }) => `syntax error: ${p.expected !== undefined ? `expected ${p.expected}, found` : 'unexpected'} ${p.found}`,
        (p) => (p.sizeAsTuple ? 'sizes are written with x: `3x3`, `28 x 28 x 1`, not as a tuple `(3, 3)`' : undefined),
      ),
      strayToken: message(
        (p: { found: string }) => `syntax error: unexpected ${p.found}`,
        () => 'each statement is one line: a layer and its arguments separated by commas',
      ),
      emptyChain: message(() => 'expected a layer or a value'),
    },
  },
  tooDeep: {
    code: 'CNN003',
    severity: 'error',
    title: 'Parentheses, braces or an expression nest deeper than the compiler follows.',
    example: { source: exampleModel(`  conv ${'('.repeat(70)}8${')'.repeat(70)}, 3x3`) },
    messages: {
      nesting: message(
        (p: { max: number }) => `nesting deeper than ${p.max} levels of '(' and '{'`,
        () => 'name intermediate values, or use `repeat`/`for` instead of nested blocks',
      ),
      expression: message(
        (p: { max: number }) => `expression nests deeper than ${p.max} levels (each operator and parenthesis is one)`,
        () => 'split it into named values, or use `repeat`/`for`',
      ),
    },
  },
  emptyFile: {
    code: 'CNN004',
    severity: 'error',
    title: 'The file holds nothing to check.',
    example: { source: '\n' },
    messages: {
      empty: message(
        (p: { file: string }) => `${p.file} is empty: there is nothing to check`,
        () => 'declare a model, e.g. `model M { input x: 28 x 28 x 1 ... }`',
      ),
    },
  },
} as const satisfies Record<string, CodeEntry>;
