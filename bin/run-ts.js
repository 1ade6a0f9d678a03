#!/usr/bin/env node
// Runs a TypeScript file of this repository (benchmarks, scripts): `node bin/run-ts.js FILE ARGS...`.
import './ts-register.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], resolve(file), ...args];
await import(pathToFileURL(resolve(file)).href);
