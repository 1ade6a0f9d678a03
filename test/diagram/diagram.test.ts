// `cnnc graph`'s pictures: what the boxes say (collapsed blocks, shapes, parameters, shared
// weights, loss terms), and, rendered in Chromium, that no two boxes overlap, every label fits its
// box, every edge is visible (has length, and no part of it runs under a box) and every box of an
// opened block lies inside its frame.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { collapseGraph } from '../../compiler/diagram/collapse.ts';
import { renderDiagram } from '../../compiler/diagram.ts';
import type { ModelGraph } from '../../compiler/graph.ts';
import { compileModel } from '../../compiler/program.ts';
import { CHROMIUM_PATH, describeWithBrowser } from '../support/browser.ts';

const STDLIB = join(import.meta.dirname, '../../stdlib');

function graphOf(file: string, model?: string): ModelGraph {
  const path = join(STDLIB, file);
  const r = compileModel({ file: path, text: readFileSync(path, 'utf8'), model });
  if (!r.graph) throw new Error(`${file} ${model ?? ''} did not compile`);
  return r.graph;
}

describe('what the diagram shows', () => {
  it('collapses each top-level block of ResNet-50 to one box with its output shape and parameters', () => {
    const d = collapseGraph(graphOf('resnet.cnn', 'ResNet50'));
    expect(d.nodes.map((n) => n.id)).toEqual(['image', 'stem', 'layer1_0', 'layer1_1', 'layer1_2', 'layer2_0', 'layer2_1', 'layer2_2', 'layer2_3', 'layer3_0', 'layer3_1', 'layer3_2', 'layer3_3', 'layer3_4', 'layer3_5', 'layer4_0', 'layer4_1', 'layer4_2', 'head', 'loss:0']);
    // torchvision's layer4[0]: 1x1 512, 3x3 512, 1x1 2048, projection 1x1 2048, four batchnorms.
    expect(d.nodes.find((n) => n.id === 'layer4_0')).toMatchObject({ kind: 'block', lines: ['block · 12 layers', '→ 7x7x2048 · 6,049,792 params'] });
    expect(d.nodes.at(-1)).toMatchObject({ kind: 'loss', lines: ['cross_entropy'] });
    const expanded = collapseGraph(graphOf('resnet.cnn', 'ResNet50'), { depth: Infinity });
    expect(expanded.edges).toContainEqual({ from: 'layer1_0.relu_3', to: 'layer1_1.add_1' });
    // Opened blocks frame their layers.
    expect(expanded.groups.map((g) => g.id)).toContain('layer1_0');
    expect(expanded.nodes.find((n) => n.id === 'layer1_0.conv1')).toMatchObject({ parent: 'layer1_0' });
    expect(d.groups).toEqual([]);
  });

  it('marks the Siamese tower that reuses the first one as sharing its weights', () => {
    const d = collapseGraph(graphOf('facenet.cnn', 'FaceVerification'));
    expect(d.nodes.find((n) => n.id === 'a')).toMatchObject({ kind: 'block' });
    expect(d.nodes.find((n) => n.id === 'b')).toMatchObject({ kind: 'shared', lines: ['block · 154 layers', '→ 128 · weights of a'] });
    expect(d.edges.filter((e) => e.to === 'loss:0')).toEqual([{ from: 'sigmoid_1', to: 'loss:0' }]);
  });

  it("draws FaceNet's triplet towers as one set of weights feeding the triplet loss node", () => {
    const d = collapseGraph(graphOf('facenet.cnn', 'FaceNetTriplet'));
    expect(d.nodes.filter((n) => ['a', 'p', 'n'].includes(n.id)).map((n) => [n.id, n.kind, n.lines.at(-1)])).toEqual([
      ['a', 'block', '→ 128 · 3,743,280 params'],
      ['p', 'shared', '→ 128 · weights of a'],
      ['n', 'shared', '→ 128 · weights of a'],
    ]);
    expect(d.nodes.find((n) => n.id === 'loss:0')).toMatchObject({ kind: 'loss', lines: ['triplet'] });
    expect(d.edges.filter((e) => e.to === 'loss:0').map((e) => e.from)).toEqual(['a', 'p', 'n']);
  });

  it("keeps YOLOv2's passthrough as its own edge", () => {
    const d = collapseGraph(graphOf('yolo.cnn'));
    expect(d.edges).toContainEqual({ from: 'skip', to: 'conv21' });
    expect(d.edges.filter((e) => e.to === 'concatenate').length).toBe(2);
  });
});

describe('cnnc graph options', () => {
  it('rejects a depth below 1 and --expand with --depth as usage errors', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    try {
      expect(await main(['graph', join(STDLIB, 'lenet5.cnn'), '--depth', '0'])).toBe(2);
      expect(await main(['graph', join(STDLIB, 'lenet5.cnn'), '--depth', '2', '--expand'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    expect(err).toEqual(["cnnc graph: --depth needs a whole number of at least 1, got '0'\n", 'cnnc graph: give --expand or --depth, not both\n']);
  });

  it('writes into a new folder, and refuses a path through a file in one line, exit 2', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-graph-out-'));
    try {
      expect(await main(['graph', join(STDLIB, 'lenet5.cnn'), '-o', join(dir, 'new', 'lenet.svg')])).toBe(0);
      expect(readFileSync(join(dir, 'new', 'lenet.svg'), 'utf8')).toMatch(/^<svg/);
      writeFileSync(join(dir, 'file'), '');
      expect(await main(['graph', join(STDLIB, 'lenet5.cnn'), '-o', join(dir, 'file', 'lenet.svg')])).toBe(2);
    } finally {
      vi.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(err).toHaveLength(1);
    expect(err[0]).toBe(`cnnc graph: cannot write ${join(dir, 'file', 'lenet.svg')}: a part of ${join(dir, 'file')} is a file, not a folder\n`);
  });
});

interface Check {
  boxes: number;
  edges: number;
  overlaps: string[];
  overflowing: string[];
  hidden: string[];
  outsideFrame: string[];
}

/** Runs in the page: geometry of every box, label and edge of the SVG. */
function inspect(): Check {
  const boxes = Array.from(document.querySelectorAll('g.node')).map((g) => {
    const r = (g.querySelector('rect') as SVGRectElement).getBBox();
    const texts = Array.from(g.querySelectorAll('text')).map((t) => (t as SVGTextElement).getBBox());
    return { id: g.getAttribute('data-node') ?? '', r, texts };
  });
  const overlaps: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!.r;
      const b = boxes[j]!.r;
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) overlaps.push(`${boxes[i]!.id} / ${boxes[j]!.id}`);
    }
  }
  const overflowing = boxes.filter((b) => b.texts.some((t) => t.x < b.r.x || t.x + t.width > b.r.x + b.r.width || t.y < b.r.y || t.y + t.height > b.r.y + b.r.height)).map((b) => b.id);
  const inside = (x: number, y: number) => boxes.some(({ r }) => x > r.x + 0.5 && x < r.x + r.width - 0.5 && y > r.y + 0.5 && y < r.y + r.height - 0.5);
  const hidden: string[] = [];
  const edges = Array.from(document.querySelectorAll('path.edge')) as SVGPathElement[];
  for (const e of edges) {
    const length = e.getTotalLength();
    let covered = length < 4;
    for (let s = 2; s < length - 2 && !covered; s += 3) {
      const p = e.getPointAtLength(s);
      covered = inside(p.x, p.y);
    }
    if (covered) hidden.push(`${e.getAttribute('data-from')} -> ${e.getAttribute('data-to')}`);
  }
  const frames = new Map(Array.from(document.querySelectorAll('g.group')).map((g) => [g.getAttribute('data-group'), (g.querySelector('rect') as SVGRectElement).getBBox()]));
  const outsideFrame = Array.from(document.querySelectorAll('g.node[data-parent]'))
    .filter((g) => {
      const f = frames.get(g.getAttribute('data-parent'));
      const r = (g.querySelector('rect') as SVGRectElement).getBBox();
      return !f || r.x < f.x || r.y < f.y || r.x + r.width > f.x + f.width || r.y + r.height > f.y + f.height;
    })
    .map((g) => g.getAttribute('data-node') ?? '');
  return { boxes: boxes.length, edges: edges.length, overlaps, overflowing, hidden, outsideFrame };
}

const PICTURES: readonly { name: string; file: string; model?: string; depth?: number }[] = [
  { name: 'ResNet-50', file: 'resnet.cnn', model: 'ResNet50' },
  { name: 'ResNet-18 expanded', file: 'resnet.cnn', model: 'ResNet18', depth: Infinity },
  { name: 'YOLOv2', file: 'yolo.cnn' },
  { name: 'Siamese verification', file: 'facenet.cnn', model: 'FaceVerification' },
  { name: 'FaceNet triplet', file: 'facenet.cnn', model: 'FaceNetTriplet' },
  { name: 'GoogLeNet, inception modules opened', file: 'inception.cnn', model: 'GoogLeNet', depth: 2 },
];

describeWithBrowser('diagrams rendered in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless=new', '--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('writes PNG at twice the SVG size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-graph-'));
    try {
      const out = join(dir, 'lenet.png');
      expect(await main(['graph', join(STDLIB, 'lenet5.cnn'), '-o', out])).toBe(0);
      const png = readFileSync(out);
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      const svg = await renderDiagram(graphOf('lenet5.cnn'));
      const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2 * Number(w), 2 * Number(h)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(PICTURES)('$name: no two boxes overlap, labels fit, every edge is visible', async ({ file, model, depth }) => {
    const graph = graphOf(file, model);
    const svg = await renderDiagram(graph, { depth });
    const page = await browser.newPage();
    try {
      await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
      const check = await page.evaluate(inspect);
      const expected = collapseGraph(graph, { depth });
      expect(check.boxes).toBe(expected.nodes.length);
      expect(check.edges).toBe(expected.edges.length);
      expect(check.overlaps).toEqual([]);
      expect(check.overflowing).toEqual([]);
      expect(check.hidden).toEqual([]);
      expect(check.outsideFrame).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
