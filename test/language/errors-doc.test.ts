// docs/errors.md is generated from the diagnostic catalog and stays current: every code has an
// example that produces it, and the page matches what the checker prints.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, type DiagnosticKind } from '../../grammar/diagnostics.ts';
import { exampleOutput, renderErrorsDoc } from '../../compiler/errors-doc.ts';

const kinds = Object.keys(CATALOG) as DiagnosticKind[];

describe('docs/errors.md', () => {
  it.each(kinds)('the example of %s produces its code', (kind) => {
    expect(exampleOutput(kind).codes).toContain(CATALOG[kind].code);
  });
  it('is current (regenerate with `node bin/run-ts.js scripts/errors-doc.ts`)', () => {
    expect(readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });
});
