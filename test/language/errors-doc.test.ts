// docs/errors.md is generated from the diagnostic catalog and stays current: every code has an
// example that produces it (or is marked reserved), and the page matches what the checker prints.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_EXAMPLES } from '../../compiler/diagnostic-examples.ts';
import { Codes, type DiagnosticKind } from '../../grammar/diagnostics.ts';
import { exampleOutput, renderErrorsDoc } from '../../compiler/errors-doc.ts';

const kinds = Object.keys(Codes) as DiagnosticKind[];

describe('docs/errors.md', () => {
  it.each(kinds.filter((k) => DIAGNOSTIC_EXAMPLES[k].source !== undefined))('the example of %s produces its code', (kind) => {
    const out = exampleOutput(kind)!;
    expect(out.codes).toContain(Codes[kind].code);
  });
  it('codes without an example say they are reserved', () => {
    for (const k of kinds.filter((k) => DIAGNOSTIC_EXAMPLES[k].source === undefined)) expect(DIAGNOSTIC_EXAMPLES[k].title).toMatch(/^Reserved:/);
  });
  it('is current (regenerate with `node bin/run-ts.js scripts/errors-doc.ts`)', () => {
    expect(readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });
});
