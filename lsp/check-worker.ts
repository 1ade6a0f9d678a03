// The language server's checking thread: runs one check at a time and sends back what it found,
// or that it was cancelled. The server's thread stays free to answer requests and to cancel a
// running check the moment the next edit arrives (check-thread.ts).

import { parentPort } from 'node:worker_threads';
import { CheckCancelled } from '../compiler/checker/expand.ts';
import { checkFile, readFromDisk } from '../compiler/program.ts';
import type { CheckResult } from './analysis.ts';

export interface CheckJob {
  readonly id: number;
  readonly path: string;
  readonly text: string;
  /** Open documents' unsaved texts by path: imports read these before the disk. */
  readonly openTexts: ReadonlyMap<string, string>;
  readonly budgetMs: number;
  /** One Int32: set to 1 by the server to abandon this check. */
  readonly cancel: SharedArrayBuffer;
}

export type CheckReply =
  | { readonly id: number; readonly outcome: 'done'; readonly result: CheckResult }
  | { readonly id: number; readonly outcome: 'cancelled' }
  | { readonly id: number; readonly outcome: 'failed'; readonly message: string };

export function runJob(job: CheckJob): CheckReply {
  const flag = new Int32Array(job.cancel);
  try {
    const result = checkFile(job.path, job.text, (p) => job.openTexts.get(p) ?? readFromDisk(p), job.budgetMs, () => Atomics.load(flag, 0) !== 0);
    // Tokens hold the lexer's token types (functions), which cannot cross threads; editors use the AST.
    const files = new Map([...result.program.files].map(([path, parsed]) => [path, { ...parsed, tokens: [] }]));
    return { id: job.id, outcome: 'done', result: { ...result, program: { ...result.program, files } } };
  } catch (e) {
    if (e instanceof CheckCancelled) return { id: job.id, outcome: 'cancelled' };
    return { id: job.id, outcome: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}

parentPort?.on('message', (job: CheckJob) => parentPort?.postMessage(runJob(job)));
