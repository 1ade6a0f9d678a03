// The playground page: an editor checked as you type, the selected model's diagram beside it, and
// a Train button that trains that model on Fashion-MNIST in the page. URL parameters: `steps`
// (default 300), `backend=webgpu|wasm|cpu` (default: WebGPU when the page has an adapter, else the
// wasm back end).

import { renderDiagram } from '../compiler/diagram.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import type { Checked } from './check.ts';
import { chartSvg, confusionHtml, type Series } from './charts.ts';
import { createEditor } from './editor.ts';
import { FASHION_CLASSES, loadFashion, type Fashion } from './fashion.ts';
import { PAGE_FILES, STDLIB_DIR, stdlibNames } from './files.ts';
import { PAGE_BACKENDS, trainFashion, type PageBackend } from './train.ts';

const STARTER = `/// A small network for Fashion-MNIST: edit it, then Train.
model Fashion(classes = 10) {
  input image: 28 x 28 x 1
  conv 8, 3x3, pad same -> relu
  maxpool 2x2, stride 2
  conv 16, 3x3, pad same -> relu
  maxpool 2x2, stride 2
  flatten
  dense classes -> softmax
  loss cross_entropy
}
`;

interface PageState {
  losses: number[];
  accuracies: [number, number][];
  training: boolean;
  done: boolean;
  device?: string;
  error?: string;
  diagnostics: number;
}

const params = new URLSearchParams(location.search);
const STEPS = Math.max(1, Number(params.get('steps') ?? 300) || 300);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const state: PageState = { losses: [], accuracies: [], training: false, done: false, diagnostics: 0 };
// Read by the page's tests and handy in the console.
(globalThis as { playground?: PageState }).playground = state;

const modelSelect = $<HTMLSelectElement>('model');
const exampleSelect = $<HTMLSelectElement>('example');
const trainButton = $<HTMLButtonElement>('train');
const status = $<HTMLSpanElement>('status');
let checked: Checked | undefined;
let diagramVersion = 0;
let stopRequested = false;

function selectedGraph(c: Checked | undefined): ModelGraph | undefined {
  return c?.graphs.find((g) => g.name === modelSelect.value) ?? c?.graphs[0];
}

function refreshModels(c: Checked): void {
  const names = c.graphs.map((g) => g.name);
  const current = modelSelect.value;
  if (names.join() !== Array.from(modelSelect.options).map((o) => o.value).join()) {
    modelSelect.replaceChildren(...names.map((n) => new Option(n, n)));
    if (names.includes(current)) modelSelect.value = current;
  }
}

async function drawDiagram(): Promise<void> {
  const version = ++diagramVersion;
  const graph = selectedGraph(checked);
  const target = $('diagram');
  if (!graph) {
    target.innerHTML = '<p class="note">No model to draw: fix the errors on the left.</p>';
    return;
  }
  const depth = $<HTMLSelectElement>('depth').value;
  const svg = await renderDiagram(graph, { depth: depth === 'all' ? Infinity : Number(depth) });
  if (version === diagramVersion) target.innerHTML = svg;
}

function onChecked(c: Checked): void {
  checked = c;
  state.diagnostics = c.diagnostics.length;
  refreshModels(c);
  const errors = c.diagnostics.filter((d) => d.severity === 'error').length;
  $('problems').textContent = errors > 0 ? `${errors} error${errors > 1 ? 's' : ''}` : c.diagnostics.length > 0 ? `${c.diagnostics.length} warning(s)` : 'no problems';
  $('problems').className = errors > 0 ? 'bad' : 'good';
  void drawDiagram();
}

const editor = createEditor($('editor'), STARTER, onChecked);

exampleSelect.replaceChildren(new Option('starter: Fashion', ''), ...stdlibNames().map((n) => new Option(`stdlib/${n}`, n)));
exampleSelect.addEventListener('change', () => {
  editor.setText(exampleSelect.value === '' ? STARTER : (PAGE_FILES.get(`${STDLIB_DIR}/${exampleSelect.value}`) ?? ''));
});
$('depth').addEventListener('change', () => void drawDiagram());
modelSelect.addEventListener('change', () => void drawDiagram());

let fashion: Promise<Fashion> | undefined;

/** `?backend=` when it names one; else WebGPU when the page has an adapter, else the wasm back end. */
async function pickBackend(): Promise<PageBackend> {
  const asked = PAGE_BACKENDS.find((b) => b === params.get('backend'));
  if (asked !== undefined) return asked;
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  return adapter ? 'webgpu' : 'wasm';
}

async function train(): Promise<void> {
  const graph = selectedGraph(checked);
  if (!graph || checked?.diagnostics.some((d) => d.severity === 'error')) {
    status.textContent = 'Fix the errors first.';
    return;
  }
  Object.assign(state, { losses: [], accuracies: [], training: true, done: false, error: undefined });
  stopRequested = false;
  trainButton.textContent = 'Stop';
  $('confusion').innerHTML = '';
  const series: Series = state;
  try {
    status.textContent = 'Loading Fashion-MNIST…';
    fashion ??= loadFashion('data/');
    const data = await fashion;
    const backend = await pickBackend();
    status.textContent = `Compiling ${graph.name} for ${backend}…`;
    const confusion = await trainFashion(graph, data, {
      steps: STEPS,
      batch: 32,
      backend,
      evalEvery: 20,
      stopped: () => stopRequested,
      onStart: (device) => {
        state.device = device;
        status.textContent = `Training ${graph.name} on ${device}`;
      },
      onStep: (step, loss, accuracy) => {
        state.losses.push(loss);
        if (accuracy !== undefined) state.accuracies.push([step, accuracy]);
        $('chart').innerHTML = chartSvg(series, STEPS);
        status.textContent = `Training ${graph.name} on ${state.device}: step ${step}/${STEPS}, loss ${loss.toFixed(3)}`;
      },
    });
    $('confusion').innerHTML = confusionHtml(confusion, FASHION_CLASSES);
    status.textContent = `Trained ${graph.name} for ${state.losses.length} steps on ${state.device}.`;
  } catch (e) {
    state.error = e instanceof Error ? e.message : String(e);
    status.textContent = state.error;
  } finally {
    state.training = false;
    state.done = true;
    trainButton.textContent = 'Train';
  }
}

trainButton.addEventListener('click', () => {
  if (state.training) stopRequested = true;
  else void train();
});
