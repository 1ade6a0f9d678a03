// The analysis of each open document's latest version, checked on the checking thread. A new
// version cancels the check of the one before it, so typing never waits for a stale check.

import { toAnalysis, uriToPath, type Analysis, type OpenDocument } from './analysis.ts';
import type { CheckThread, RunningCheck } from './check-thread.ts';

interface Entry {
  readonly version: number;
  readonly text: string;
  readonly check: RunningCheck;
  readonly analysis: Promise<Analysis | undefined>;
}

export class LiveAnalyses {
  private readonly entries = new Map<string, Entry>();
  /** The last analysis each document finished with, even if its text has changed since. */
  private readonly finished = new Map<string, Analysis>();

  constructor(
    private readonly thread: CheckThread,
    /** Open documents' texts by path, which imports read before the disk. */
    private readonly openTexts: () => ReadonlyMap<string, string>,
    private readonly budgetMs: number,
  ) {}

  /** The analysis of this version; undefined when a newer version or an import's edit cancelled it. */
  get(doc: OpenDocument): Promise<Analysis | undefined> {
    const entry = this.entries.get(doc.uri);
    if (entry && entry.version === doc.version && entry.text === doc.text) return entry.analysis;
    entry?.check.cancel();
    const check = this.thread.start({ path: uriToPath(doc.uri), text: doc.text, openTexts: new Map(this.openTexts()), budgetMs: this.budgetMs });
    const analysis = check.result.then((result) => {
      if (!result) return undefined;
      const a = toAnalysis(doc, result);
      this.finished.set(doc.uri, a);
      return a;
    });
    this.entries.set(doc.uri, { version: doc.version, text: doc.text, check, analysis });
    return analysis;
  }

  lastFinished(uri: string): Analysis | undefined {
    return this.finished.get(uri);
  }

  /** Whether the document's first check is still running: nothing says yet which files it imports. */
  checkingFirst(uri: string): boolean {
    return this.entries.has(uri) && !this.finished.has(uri);
  }

  /** The document's text, or a file it imports, changed: cancel its check and check it again on demand. */
  forget(uri: string): void {
    this.entries.get(uri)?.check.cancel();
    this.entries.delete(uri);
  }

  close(uri: string): void {
    this.forget(uri);
    this.finished.delete(uri);
  }

  /** Every analysis may be stale once a file on disk changes. */
  clear(): void {
    for (const uri of [...this.entries.keys()]) this.forget(uri);
  }
}
