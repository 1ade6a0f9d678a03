// Editor latency: the time from a one-character edit in the ResNet-152 file to the language
// server publishing its diagnostics (debounce included), median of many edits. The server runs as
// an editor starts it, a child process spoken to over JSON-RPC. Target (issue 7): under 30 ms.
// `node bin/run-ts.js bench/lsp.ts` prints the rows on their own.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
} from 'vscode-languageserver-protocol/node.js';

import { DEFAULT_DEBOUNCE_MS } from '../lsp/server.ts';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const TARGET_MS = 30;

/** A ResNet-152-sized file (bottleneck blocks, [3, 8, 36, 3]) for when stdlib/resnet.cnn is missing. */
export function generatedResnet152(): string {
  const lines = [
    'block identity(f, f1, f2, f3)(x) {',
    '  y = x -> conv f1, 1x1 -> batchnorm -> relu',
    '    -> conv f2, f x f, pad same -> batchnorm -> relu',
    '    -> conv f3, 1x1 -> batchnorm',
    '  return relu(y + x)',
    '}',
    'block projection(f, f1, f2, f3, s)(x) {',
    '  y = x -> conv f1, 1x1, stride s, round floor -> batchnorm -> relu',
    '    -> conv f2, f x f, pad same -> batchnorm -> relu',
    '    -> conv f3, 1x1 -> batchnorm',
    '  shortcut = x -> conv f3, 1x1, stride s, round floor -> batchnorm',
    '  return relu(y + shortcut)',
    '}',
    'model ResNet152(classes = 1000) {',
    '  input image: 224 x 224 x 3',
    '  conv 64, 7x7, stride 2, pad 3, round floor -> batchnorm -> relu',
    '  maxpool 3x3, stride 2, pad 1, round floor',
  ];
  const stages: [number, number, number][] = [
    [3, 64, 256],
    [8, 128, 512],
    [36, 256, 1024],
    [3, 512, 2048],
  ];
  stages.forEach(([n, width, out], i) => {
    lines.push(`  projection(3, ${width}, ${width}, ${out}, ${i === 0 ? 1 : 2})`);
    for (let k = 1; k < n; k++) lines.push(`  identity(3, ${width}, ${width}, ${out})`);
  });
  lines.push('  global_avgpool', '  dense classes -> softmax', '  loss cross_entropy', '}', '');
  return lines.join('\n');
}

function serverArgs(extra: readonly string[]): string[] {
  if (readFileSync(join(root, 'cli/main.ts'), 'utf8').includes('runLsp')) return [join(root, 'bin/cnnc.js'), 'lsp', '--stdio', ...extra];
  const entry = `await import(${JSON.stringify(pathToFileURL(join(root, 'bin/ts-register.js')).href)}); const { runLsp } = await import(${JSON.stringify(pathToFileURL(join(root, 'cli/lsp.ts')).href)}); process.exitCode = await runLsp(${JSON.stringify(['--stdio', ...extra])});`;
  return ['--input-type=module', '-e', entry];
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

export interface LspLatencyOptions {
  readonly edits?: number;
  readonly warmup?: number;
  /** Debounce to start the server with; default: the server's own. */
  readonly debounceMs?: number;
}

export async function lspLatencySection(options: LspLatencyOptions = {}): Promise<Record<string, unknown>[]> {
  const { edits = 100, warmup = 20, debounceMs } = options;
  const stdlibFile = join(root, 'stdlib/resnet.cnn');
  const fromStdlib = existsSync(stdlibFile) && readFileSync(stdlibFile, 'utf8').includes('model ResNet152');
  const file = fromStdlib ? stdlibFile : join(root, 'bench/generated-resnet152.cnn');
  const text = fromStdlib ? readFileSync(stdlibFile, 'utf8') : generatedResnet152();
  const uri = pathToFileURL(file).href;

  const child = spawn(process.execPath, serverArgs(debounceMs === undefined ? [] : ['--debounce', String(debounceMs)]), { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map<number, (count: number) => void>();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    if (p.uri === uri && p.version !== undefined) waiting.get(p.version)?.(p.diagnostics.length);
  });
  connection.listen();
  try {
    await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {}, workspaceFolders: null });
    await connection.sendNotification(InitializedNotification.type, {});
    const published = (version: number) => new Promise<number>((resolve) => waiting.set(version, resolve));
    let opened = published(1);
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'cnn', version: 1, text } });
    const initialDiagnostics = await opened;
    // Retype the last digit of ResNet152's default class count (1000 -> 1001 -> 1000 ...): every
    // edit is one character and changes what the checker computes.
    const at = text.indexOf('=', text.indexOf('model ResNet152')) + ' 1000'.length;
    const line = text.slice(0, at).split('\n').length - 1;
    const character = at - (text.lastIndexOf('\n', at - 1) + 1);
    const times: number[] = [];
    let diagnostics = initialDiagnostics;
    for (let i = 0; i < warmup + edits; i++) {
      const version = i + 2;
      const range = { start: { line, character }, end: { line, character: character + 1 } };
      opened = published(version);
      const start = performance.now();
      await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text: i % 2 === 0 ? '1' : '0' }] });
      diagnostics = await opened;
      if (i >= warmup) times.push(performance.now() - start);
    }
    const median = percentile(times, 0.5);
    return [
      {
        section: 'lsp',
        measure: 'edit_to_diagnostics',
        file: fromStdlib ? 'stdlib/resnet.cnn' : 'generated ResNet-152',
        edits,
        median_ms: Math.round(median * 100) / 100,
        p90_ms: Math.round(percentile(times, 0.9) * 100) / 100,
        diagnostics,
        debounce_ms: debounceMs ?? DEFAULT_DEBOUNCE_MS,
        target_ms: TARGET_MS,
        within_target: median < TARGET_MS,
      },
    ];
  } finally {
    await connection.sendRequest(ShutdownRequest.type).catch(() => undefined);
    await connection.sendNotification(ExitNotification.type).catch(() => undefined);
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    connection.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const debounce = process.argv.indexOf('--debounce');
  const rows = await lspLatencySection(debounce > 0 ? { debounceMs: Number(process.argv[debounce + 1]) } : {});
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
}
