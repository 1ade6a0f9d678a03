// The language server: the only module that talks LSP. It keeps the open documents, analyses each
// version once (analysis.ts), publishes diagnostics after a short debounce, and answers every
// request by handing the analysis to one feature module.

import { existsSync, readFileSync } from 'node:fs';
import {
  CodeActionKind,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache, uriToPath, type Analysis } from './analysis.ts';
import { codeActions } from './code-actions.ts';
import { completion, signatureHelp } from './completion.ts';
import { documentDiagnostics } from './diagnostics.ts';
import { formatDocument } from './formatting.ts';
import { hover } from './hover.ts';
import { inlayHints } from './inlay-hints.ts';
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
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const documents = new TextDocuments(TextDocument);
  const openTexts = new Map<string, string>();
  const cache = new AnalysisCache((path) => openTexts.get(path) ?? (existsSync(path) ? readFileSync(path, 'utf8') : undefined));
  const timers = new Map<string, NodeJS.Timeout>();

  const analysisOf = (uri: string): Analysis | undefined => {
    const doc = documents.get(uri);
    return doc ? cache.get({ uri, version: doc.version, text: doc.getText() }) : undefined;
  };
  const others = (uri: string): Analysis[] =>
    documents
      .all()
      .filter((d) => d.uri !== uri)
      .map((d) => cache.get({ uri: d.uri, version: d.version, text: d.getText() }));

  const publish = (uri: string) => {
    timers.delete(uri);
    const analysis = analysisOf(uri);
    if (!analysis) return;
    void connection.sendDiagnostics({ uri, version: analysis.version, diagnostics: documentDiagnostics(analysis) });
  };
  const schedule = (uri: string) => {
    clearTimeout(timers.get(uri));
    timers.set(uri, setTimeout(() => publish(uri), debounceMs));
  };

  documents.onDidChangeContent(({ document }) => {
    const path = uriToPath(document.uri);
    openTexts.set(path, document.getText());
    schedule(document.uri);
    // Documents that import this one see its unsaved text: check them again too.
    for (const other of documents.all()) {
      if (other.uri === document.uri) continue;
      const analysis = cache.get({ uri: other.uri, version: other.version, text: other.getText() });
      if (analysis.program.files.has(path)) {
        cache.forget(other.uri);
        schedule(other.uri);
      }
    }
  });
  documents.onDidClose(({ document }) => {
    openTexts.delete(uriToPath(document.uri));
    clearTimeout(timers.get(document.uri));
    cache.forget(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
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

  const at = (uri: string, position: { line: number; character: number }) => {
    const analysis = analysisOf(uri);
    return analysis ? { analysis, offset: offsetAt(analysis.text, position) } : undefined;
  };

  connection.onHover(({ textDocument, position }) => {
    const a = at(textDocument.uri, position);
    return a ? (hover(a.analysis, a.offset) ?? null) : null;
  });
  connection.onCompletion(({ textDocument, position }) => {
    const a = at(textDocument.uri, position);
    return a ? completion(a.analysis, a.offset) : [];
  });
  connection.onSignatureHelp(({ textDocument, position }) => {
    const a = at(textDocument.uri, position);
    return a ? (signatureHelp(a.analysis, a.offset) ?? null) : null;
  });
  connection.onDefinition(({ textDocument, position }) => {
    const a = at(textDocument.uri, position);
    return a ? (definition(a.analysis, a.offset) ?? null) : null;
  });
  connection.onReferences(({ textDocument, position, context }) => {
    const a = at(textDocument.uri, position);
    return a ? references(a.analysis, a.offset, context.includeDeclaration, others(textDocument.uri)) : [];
  });
  connection.onPrepareRename(({ textDocument, position }) => {
    const a = at(textDocument.uri, position);
    const word = a && prepareRename(a.analysis, a.offset);
    return word && a ? { start: positionAt(a.analysis.text, word.start), end: positionAt(a.analysis.text, word.end) } : null;
  });
  connection.onRenameRequest(({ textDocument, position, newName }) => {
    const a = at(textDocument.uri, position);
    if (!a) return null;
    try {
      return rename(a.analysis, a.offset, newName, others(textDocument.uri));
    } catch (e) {
      if (e instanceof RenameError) throw new ResponseError(-32602, e.message);
      throw e;
    }
  });
  connection.onDocumentSymbol(({ textDocument }) => {
    const analysis = analysisOf(textDocument.uri);
    return analysis ? documentSymbols(analysis) : [];
  });
  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    return doc ? formatDocument(doc.getText(), uriToPath(textDocument.uri)) : [];
  });
  connection.onCodeAction(({ textDocument, context }) => {
    const analysis = analysisOf(textDocument.uri);
    return analysis ? codeActions(analysis, context.diagnostics) : [];
  });
  connection.languages.inlayHint.on(({ textDocument, range }) => {
    const analysis = analysisOf(textDocument.uri);
    return analysis ? inlayHints(analysis, range) : [];
  });

  // A file changed on disk (an import that is not open): every analysis may be stale.
  connection.onDidChangeWatchedFiles(() => {
    cache.clear();
    for (const doc of documents.all()) schedule(doc.uri);
  });

  documents.listen(connection);
  connection.listen();
}
