// The VS Code side of the .cnn language: starts `cnnc lsp --stdio` and bridges VS Code's provider
// API to it over JSON-RPC. A small client of our own (on vscode-jsonrpc, which the server package
// already ships) instead of vscode-languageclient, so the extension packages without a download.
'use strict';

const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');
const rpc = require('vscode-jsonrpc/node');

const LANGUAGE = 'cnn';

/** The command that starts the server: the setting, else the workspace's cnnc, else `cnnc` on the PATH. */
function serverCommand() {
  const configured = vscode.workspace.getConfiguration('cnn').get('server.command', []);
  if (Array.isArray(configured) && configured.length > 0) return { command: configured[0], args: configured.slice(1) };
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const candidate of ['bin/cnnc.js', 'node_modules/cnnc/bin/cnnc.js']) {
      const path = join(folder.uri.fsPath, candidate);
      if (existsSync(path)) return { command: 'node', args: [path, 'lsp', '--stdio'] };
    }
  }
  return { command: 'cnnc', args: ['lsp', '--stdio'] };
}

// ---- conversions between LSP and VS Code shapes -------------------------------------------------

const toPosition = (p) => new vscode.Position(p.line, p.character);
const toRange = (r) => new vscode.Range(toPosition(r.start), toPosition(r.end));
const fromPosition = (p) => ({ line: p.line, character: p.character });
const fromRange = (r) => ({ start: fromPosition(r.start), end: fromPosition(r.end) });
const toLocation = (l) => new vscode.Location(vscode.Uri.parse(l.uri), toRange(l.range));
const toMarkdown = (m) => new vscode.MarkdownString(typeof m === 'string' ? m : m.value);
const toTextEdit = (e) => new vscode.TextEdit(toRange(e.range), e.newText);

function toWorkspaceEdit(edit) {
  const out = new vscode.WorkspaceEdit();
  for (const [uri, edits] of Object.entries(edit?.changes ?? {})) for (const e of edits) out.replace(vscode.Uri.parse(uri), toRange(e.range), e.newText);
  return out;
}

function toDiagnostic(d) {
  const severity = d.severity === 2 ? vscode.DiagnosticSeverity.Warning : d.severity === 3 ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Error;
  const out = new vscode.Diagnostic(toRange(d.range), d.message, severity);
  if (d.code !== undefined) out.code = d.code;
  out.source = d.source;
  out.lspDiagnostic = d;
  return out;
}

function toSymbol(s) {
  const out = new vscode.DocumentSymbol(s.name, s.detail ?? '', s.kind - 1, toRange(s.range), toRange(s.selectionRange));
  out.children = (s.children ?? []).map(toSymbol);
  return out;
}

const COMPLETION_KINDS = { 3: 'Function', 7: 'Class', 6: 'Variable', 21: 'Constant', 14: 'Keyword', 10: 'Property' };

function toCompletion(item) {
  const kind = vscode.CompletionItemKind[COMPLETION_KINDS[item.kind] ?? 'Text'];
  const out = new vscode.CompletionItem(item.label, kind);
  if (item.detail) out.detail = item.detail;
  if (item.documentation) out.documentation = toMarkdown(item.documentation);
  return out;
}

function toSignatureHelp(help) {
  const out = new vscode.SignatureHelp();
  out.signatures = help.signatures.map((s) => {
    const sig = new vscode.SignatureInformation(s.label, s.documentation ? toMarkdown(s.documentation) : undefined);
    sig.parameters = (s.parameters ?? []).map((p) => new vscode.ParameterInformation(p.label));
    return sig;
  });
  out.activeSignature = help.activeSignature ?? 0;
  out.activeParameter = help.activeParameter ?? 0;
  return out;
}

// ---- the client ---------------------------------------------------------------------------------

/** Starts the server and registers every provider; returns what deactivation must dispose. */
async function startClient(context) {
  const { command, args } = serverCommand();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const output = vscode.window.createOutputChannel('CNN language server');
  child.stderr.on('data', (chunk) => output.append(String(chunk)));
  child.on('error', (e) => vscode.window.showErrorMessage(`cannot start the .cnn language server (${command}): ${e.message}`));
  const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const diagnostics = vscode.languages.createDiagnosticCollection(LANGUAGE);
  connection.onNotification('textDocument/publishDiagnostics', (p) => diagnostics.set(vscode.Uri.parse(p.uri), p.diagnostics.map(toDiagnostic)));
  connection.onNotification('window/logMessage', (p) => output.appendLine(p.message));
  connection.listen();
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: vscode.workspace.workspaceFolders?.[0]?.uri.toString() ?? null,
    capabilities: { textDocument: { publishDiagnostics: {}, inlayHint: {}, hover: { contentFormat: ['markdown'] } } },
  });
  connection.sendNotification('initialized', {});

  const isCnn = (doc) => doc.languageId === LANGUAGE;
  const open = (doc) => {
    if (isCnn(doc)) connection.sendNotification('textDocument/didOpen', { textDocument: { uri: doc.uri.toString(), languageId: LANGUAGE, version: doc.version, text: doc.getText() } });
  };
  vscode.workspace.textDocuments.forEach(open);
  const selector = { language: LANGUAGE };
  const at = (doc, position) => ({ textDocument: { uri: doc.uri.toString() }, position: fromPosition(position) });
  const request = (method, params) => connection.sendRequest(method, params);

  context.subscriptions.push(
    output,
    diagnostics,
    vscode.workspace.onDidOpenTextDocument(open),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!isCnn(e.document) || e.contentChanges.length === 0) return;
      connection.sendNotification('textDocument/didChange', {
        textDocument: { uri: e.document.uri.toString(), version: e.document.version },
        contentChanges: e.contentChanges.map((c) => ({ range: fromRange(c.range), text: c.text })),
      });
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (isCnn(doc)) connection.sendNotification('textDocument/didClose', { textDocument: { uri: doc.uri.toString() } });
    }),
    vscode.languages.registerHoverProvider(selector, {
      async provideHover(doc, position) {
        const h = await request('textDocument/hover', at(doc, position));
        return h ? new vscode.Hover(toMarkdown(h.contents), h.range ? toRange(h.range) : undefined) : undefined;
      },
    }),
    vscode.languages.registerCompletionItemProvider(
      selector,
      {
        async provideCompletionItems(doc, position) {
          return ((await request('textDocument/completion', at(doc, position))) ?? []).map(toCompletion);
        },
      },
      ' ',
      '>',
      '(',
      ',',
    ),
    vscode.languages.registerSignatureHelpProvider(
      selector,
      {
        async provideSignatureHelp(doc, position) {
          const help = await request('textDocument/signatureHelp', at(doc, position));
          return help ? toSignatureHelp(help) : undefined;
        },
      },
      ' ',
      ',',
      '(',
    ),
    vscode.languages.registerDefinitionProvider(selector, {
      async provideDefinition(doc, position) {
        const l = await request('textDocument/definition', at(doc, position));
        return l ? toLocation(l) : undefined;
      },
    }),
    vscode.languages.registerReferenceProvider(selector, {
      async provideReferences(doc, position, ctx) {
        return ((await request('textDocument/references', { ...at(doc, position), context: { includeDeclaration: ctx.includeDeclaration } })) ?? []).map(toLocation);
      },
    }),
    vscode.languages.registerRenameProvider(selector, {
      async provideRenameEdits(doc, position, newName) {
        return toWorkspaceEdit(await request('textDocument/rename', { ...at(doc, position), newName }));
      },
      async prepareRename(doc, position) {
        const r = await request('textDocument/prepareRename', at(doc, position));
        if (!r) throw new Error('only blocks and named values can be renamed');
        return toRange(r);
      },
    }),
    vscode.languages.registerDocumentSymbolProvider(selector, {
      async provideDocumentSymbols(doc) {
        return ((await request('textDocument/documentSymbol', { textDocument: { uri: doc.uri.toString() } })) ?? []).map(toSymbol);
      },
    }),
    vscode.languages.registerDocumentFormattingEditProvider(selector, {
      async provideDocumentFormattingEdits(doc, options) {
        const edits = await request('textDocument/formatting', { textDocument: { uri: doc.uri.toString() }, options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces } });
        return (edits ?? []).map(toTextEdit);
      },
    }),
    vscode.languages.registerCodeActionsProvider(selector, {
      async provideCodeActions(doc, range, ctx) {
        const lspDiagnostics = ctx.diagnostics.map((d) => d.lspDiagnostic).filter(Boolean);
        const actions = await request('textDocument/codeAction', { textDocument: { uri: doc.uri.toString() }, range: fromRange(range), context: { diagnostics: lspDiagnostics } });
        return (actions ?? []).map((a) => {
          const action = new vscode.CodeAction(a.title, vscode.CodeActionKind.QuickFix);
          action.edit = toWorkspaceEdit(a.edit);
          action.isPreferred = Boolean(a.isPreferred);
          return action;
        });
      },
    }),
    vscode.languages.registerInlayHintsProvider(selector, {
      async provideInlayHints(doc, range) {
        const hints = await request('textDocument/inlayHint', { textDocument: { uri: doc.uri.toString() }, range: fromRange(range) });
        return (hints ?? []).map((h) => {
          const hint = new vscode.InlayHint(toPosition(h.position), h.label);
          hint.paddingLeft = Boolean(h.paddingLeft);
          return hint;
        });
      },
    }),
  );
  return {
    async stop() {
      try {
        await connection.sendRequest('shutdown');
        connection.sendNotification('exit');
      } finally {
        connection.dispose();
        if (child.exitCode === null) child.kill();
      }
    },
  };
}

let client;

async function activate(context) {
  client = await startClient(context);
}

async function deactivate() {
  if (client) await client.stop();
  client = undefined;
}

module.exports = { activate, deactivate };
