// Writes what is generated from the layer definitions: grammar/keyword-args.ts and the layer table
// of docs/language.md. `node bin/run-ts.js scripts/layer-reference.ts`

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keywordArgumentsSource, withLayerTable } from '../compiler/layers/reference.ts';

const root = resolve(import.meta.dirname, '..');
writeFileSync(resolve(root, 'grammar/keyword-args.ts'), keywordArgumentsSource());
const language = resolve(root, 'docs/language.md');
writeFileSync(language, withLayerTable(readFileSync(language, 'utf8')));
