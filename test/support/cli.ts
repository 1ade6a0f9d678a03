// Runs the real `cnnc` binary as a user would, for command-line contract tests.

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const CNNC = resolve(import.meta.dirname, '../../bin/cnnc.js');

export function cnnc(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CNNC, ...args], {
    cwd: options.cwd ?? resolve(import.meta.dirname, '../..'),
    input: options.input,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
