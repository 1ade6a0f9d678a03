// The language server: the only module that talks LSP. It keeps the open documents, analyses each
// version once on the checking thread (live-analyses.ts; the next edit cancels a running check),
// publishes diagnostics after a short debounce, and answers every request by handing the analysis
// to one feature module.

import {
  CodeActionKind,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CHECK_BUDGET_MS, uriToPath, type Analysis } from './analysis.ts';
import { CheckThread } from './check-thread.ts';
import { codeActions } from './code-actions.ts';
import { completion, signatureHelp } from './completion.ts';
import { documentDiagnostics } from './diagnostics.ts';
import { formatDocument } from './formatting.ts';
import { hover } from './hover.ts';
import { inlayHints } from './inlay-hints.ts';
import { LiveAnalyses } from './live-analyses.ts';
import { definition, prepareRename, references, rename, RenameError } from './navigation.ts';
import { offsetAt, positionAt } from './positions.ts';
import { documentSymbols } from './symbols.ts';

/**
 * Milliseconds between the last edit and checking the file: a burst of keystrokes faster than this
 * is checked once. The check of stdlib/resnet.cnn (six ResNets) plus the round trip is about 13 ms,
 * so 8 ms keeps edit -> diagnostics under the 30 ms target (bench/lsp.ts measures it).
 */
export const DEFAULT_DEBOUNCE_MS = 8;

export interface ServerOptions {
  readonly debounceMs?: number;
  /** How long one check may run before it stops with a diagnostic (default CHECK_BUDGET_MS). */
  readonly checkBudgetMs?: number;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const documents = new TextDocuments(TextDocument);
  const openTexts = new Map<string, string>();
  const thread = new CheckThread();
  const live = new LiveAnalyses(thread, () => openTexts, options.checkBudgetMs ?? CHECK_BUDGET_MS);
  const timers = new Map<string, NodeJS.Timeout>();

  /** The analysis of the document's latest version, waiting for it if an edit cancelled the one under way. */
  const analysisOf = async (uri: string): Promise<Analysis | undefined> => {
    for (;;) {
      const doc = documents.get(uri);
      if (!doc) return undefined;
      const analysis = await live.get({ uri, version: doc.version, text: doc.getText() });
      if (analysis) return analysis;
    }
  };
  const others = async (uri: string): Promise<Analysis[]> => {
    const all = await Promise.all(documents.all().filter((d) => d.uri !== uri).map((d) => analysisOf(d.uri)));
    return all.filter((a): a is Analysis => a !== undefined);
  };

  const publish = async (uri: string) => {
    timers.delete(uri);
    const analysis = await analysisOf(uri);
    // A newer version publishes its own diagnostics.
    if (!analysis || documents.get(uri)?.version !== analysis.version) return;
    await connection.sendDiagnostics({ uri, version: analysis.version, diagnostics: documentDiagnostics(analysis) });
  };
  const schedule = (uri: string) => {
    clearTimeout(timers.get(uri));
    timers.set(
      uri,
      setTimeout(() => publish(uri).catch((e: unknown) => connection.console.error(`cnnc: ${e instanceof Error ? e.message : String(e)}`)), debounceMs),
    );
  };

  documents.onDidChangeContent(({ document }) => {
    const path = uriToPath(document.uri);
    openTexts.set(path, document.getText());
    live.forget(document.uri);
    schedule(document.uri);
    // Documents that import this one see its unsaved text: check them again too (and those whose
    // first check is still running, which may have read the old text).
    for (const other of documents.all()) {
      if (other.uri === document.uri) continue;
      if (live.checkingFirst(other.uri) || live.lastFinished(other.uri)?.program.files.has(path)) {
        live.forget(other.uri);
        schedule(other.uri);
      }
    }
  });
  documents.onDidClose(({ document }) => {
    openTexts.delete(uriToPath(document.uri));
    clearTimeout(timers.get(document.uri));
    live.close(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });
  connection.onShutdown(async () => {
    await thread.close();
  });

  connection.onInitialize(
    (): InitializeResult => ({
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: [' ', '>', '(', ','] },
        signatureHelpProvider: { triggerCharacters: [' ', ',', '('] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        inlayHintProvider: true,
      },
      serverInfo: { name: 'cnnc' },
    }),
  );

  const at = async (uri: string, position: { line: number; character: number }) => {
    const analysis = await analysisOf(uri);
    return analysis ? { analysis, offset: offsetAt(analysis.text, position) } : undefined;
  };

  connection.onHover(async ({ textDocument, position }) => {
    const a = await at(textDocument.uri, position);
    return a ? (hover(a.analysis, a.offset) ?? null) : null;
  });
  connection.onCompletion(async ({ textDocument, position }) => {
    const a = await at(textDocument.uri, position);
    return a ? completion(a.analysis, a.offset) : [];
  });
  connection.onSignatureHelp(async ({ textDocument, position }) => {
    const a = await at(textDocument.uri, position);
    return a ? (signatureHelp(a.analysis, a.offset) ?? null) : null;
  });
  connection.onDefinition(async ({ textDocument, position }) => {
    const a = await at(textDocument.uri, position);
    return a ? (definition(a.analysis, a.offset) ?? null) : null;
  });
  connection.onReferences(async ({ textDocument, position, context }) => {
    const a = await at(textDocument.uri, position);
    return a ? references(a.analysis, a.offset, context.includeDeclaration, await others(textDocument.uri)) : [];
  });
  connection.onPrepareRename(async ({ textDocument, position }) => {
    const a = await at(textDocument.uri, position);
    const word = a && prepareRename(a.analysis, a.offset);
    return word && a ? { start: positionAt(a.analysis.text, word.start), end: positionAt(a.analysis.text, word.end) } : null;
  });
  connection.onRenameRequest(async ({ textDocument, position, newName }) => {
    const a = await at(textDocument.uri, position);
    if (!a) return null;
    try {
      return rename(a.analysis, a.offset, newName, await others(textDocument.uri));
    } catch (e) {
      if (e instanceof RenameError) throw new ResponseError(-32602, e.message);
      throw e;
    }
  });
  connection.onDocumentSymbol(async ({ textDocument }) => {
    const analysis = await analysisOf(textDocument.uri);
    return analysis ? documentSymbols(analysis) : [];
  });
  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    return doc ? formatDocument(doc.getText(), uriToPath(textDocument.uri)) : [];
  });
  connection.onCodeAction(async ({ textDocument, context }) => {
    const analysis = await analysisOf(textDocument.uri);
    return analysis ? codeActions(analysis, context.diagnostics) : [];
  });
  connection.languages.inlayHint.on(async ({ textDocument, range }) => {
    const analysis = await analysisOf(textDocument.uri);
    return analysis ? inlayHints(analysis, range) : [];
  });

  // A file changed on disk (an import that is not open): every analysis may be stale.
  connection.onDidChangeWatchedFiles(() => {
    live.clear();
    for (const doc of documents.all()) schedule(doc.uri);
  });

  documents.listen(connection);
  connection.listen();
}
