#!/usr/bin/env node
// Entry point for `npx cnnc`. The installed package runs the JavaScript built into dist/ (npm pack
// builds it); a source checkout runs its TypeScript directly (see ts-hooks.js), so an edit takes
// effect without a build step.
import { existsSync } from 'node:fs';

const fromSources = existsSync(new URL('../cli/main.ts', import.meta.url));
if (fromSources) await import('./ts-register.js');
const { main } = await import(fromSources ? '../cli/main.ts' : '../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
