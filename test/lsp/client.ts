// An editor's side of the protocol: starts `cnnc lsp --stdio` as a child process and talks
// JSON-RPC to it through vscode-languageserver-protocol's client connection.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** `node bin/cnnc.js lsp --stdio` once cli/main.ts dispatches `lsp`; until then the same server through runLsp. */
export function serverCommand(extra: readonly string[] = []): string[] {
  const wired = readFileSync(resolve(ROOT, 'cli/main.ts'), 'utf8').includes('runLsp');
  return wired ? [resolve(ROOT, 'bin/cnnc.js'), 'lsp', '--stdio', ...extra] : [resolve(ROOT, 'bin/run-ts.js'), resolve(import.meta.dirname, 'server-entry.ts'), '--stdio', ...extra];
}

export const uriOf = (path: string) => pathToFileURL(path).href;

export interface LspClient {
  readonly connection: ProtocolConnection;
  readonly child: ChildProcess;
  open(path: string, text?: string): Promise<void>;
  change(path: string, text: string): void;
  /** Resolves with the next diagnostics published for a file (optionally for a given version). */
  nextDiagnostics(path: string, version?: number): Promise<Diagnostic[]>;
  close(): Promise<void>;
}

export async function startClient(extraArgs: readonly string[] = []): Promise<LspClient> {
  const child = spawn(process.execPath, serverCommand(extraArgs), { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const waiters: { uri: string; version?: number; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
    const i = waiters.findIndex((w) => w.uri === p.uri && (w.version === undefined || w.version === p.version));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(p.diagnostics);
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: uriOf(ROOT), capabilities: {}, workspaceFolders: null });
  await connection.sendNotification(InitializedNotification.type, {});
  const versions = new Map<string, number>();
  return {
    connection,
    child,
    async open(path, text) {
      versions.set(path, 1);
      await connection.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri: uriOf(path), languageId: 'cnn', version: 1, text: text ?? readFileSync(path, 'utf8') },
      });
    },
    change(path, text) {
      const version = (versions.get(path) ?? 1) + 1;
      versions.set(path, version);
      void connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: uriOf(path), version }, contentChanges: [{ text }] });
    },
    nextDiagnostics(path, version) {
      return new Promise((resolveDiagnostics) => waiters.push({ uri: uriOf(path), ...(version !== undefined ? { version } : {}), resolve: resolveDiagnostics }));
    },
    async close() {
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      connection.dispose();
    },
  };
}
