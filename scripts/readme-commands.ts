// Rewrites the table of commands in README.md from cli/commands.ts:
//   node bin/run-ts.js scripts/readme-commands.ts

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withCommandTable } from '../cli/command-table.ts';
import { COMMANDS } from '../cli/commands.ts';

const readme = join(import.meta.dirname, '..', 'README.md');
writeFileSync(readme, withCommandTable(readFileSync(readme, 'utf8'), COMMANDS));
