// Writes docs/errors.md from the diagnostic catalog: `node bin/run-ts.js scripts/errors-doc.ts`.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderErrorsDoc } from '../compiler/errors-doc.ts';

writeFileSync(resolve(import.meta.dirname, '../docs/errors.md'), renderErrorsDoc());
