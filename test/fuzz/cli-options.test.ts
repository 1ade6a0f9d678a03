// The option parser of every command on random argv: it accepts, or throws a UsageError whose
// message is one line; never another error (issue 13).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../cli/command.ts';
import { COMMANDS } from '../../cli/commands.ts';
import { UsageError } from '../../cli/io.ts';
import { parseOverrides } from '../../cli/io.ts';
import { bounded, runs, TEST_TIMEOUT_MS } from './budget.ts';

const flags = [...new Set(COMMANDS.flatMap((c) => Object.keys(c.options)))].map((f) => `--${f}`);
const values = ['0', '-5', '1e999', 'abc', '', ' ', '1.5', '64', 'NaN', 'Infinity', '0x10', '9007199254740993', '-', '--', '=', 'a=b', 'classes=1e999', '\u001b[2J'];
const token = fc.oneof(fc.constantFrom(...flags, '-o', '-h', 'file.cnn', ...values), fc.string({ maxLength: 12 }), fc.tuple(fc.constantFrom(...flags), fc.constantFrom(...values)).map(([f, v]) => `${f}=${v}`));

describe('command-line options', () => {
  it('every command parses random argv or says why in one line', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: COMMANDS.length - 1 }), fc.array(token, { maxLength: 8 }), (i, argv) => {
        try {
          bounded('parse', () => parseCommand(COMMANDS[i]!, argv));
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expect((e as Error).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: runs(500) },
    );
  });
  it('--set values', { timeout: TEST_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 20 })), { maxLength: 4 }), (sets) => {
        try {
          for (const v of Object.values(parseOverrides(sets))) expect(Number.isFinite(v)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: runs(300) },
    );
  });
});
