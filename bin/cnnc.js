#!/usr/bin/env node
// Entry point for `npx cnnc`: runs the TypeScript sources directly (see ts-hooks.js).
import './ts-register.js';

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
