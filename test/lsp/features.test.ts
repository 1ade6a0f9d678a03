// Editor features called directly on an analysis (no server): inlay hints against the shapes the
// course files write by hand, block-aware hovers, quick fixes, navigation into the standard library.

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompletionItemKind, type Diagnostic, type MarkupContent } from 'vscode-languageserver';
import { analyse, pathToUri, type Analysis } from '../../lsp/analysis.ts';
import { codeActions } from '../../lsp/code-actions.ts';
import { completion, signatureHelp, typingContext } from '../../lsp/completion.ts';
import { documentDiagnostics } from '../../lsp/diagnostics.ts';
import { hover } from '../../lsp/hover.ts';
import { inlayHints } from '../../lsp/inlay-hints.ts';
import { definition, references } from '../../lsp/navigation.ts';
import { bounded } from '../fuzz/budget.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const analysisOf = (path: string, text = readFileSync(path, 'utf8')): Analysis => analyse({ uri: pathToUri(path), version: 1, text });
const hoverText = (a: Analysis, needle: string, shift = 1) => (hover(a, a.text.indexOf(needle) + shift)?.contents as MarkupContent | undefined)?.value ?? '';

describe('inlay hints', () => {
  const files = ['examples', 'stdlib'].flatMap((dir) =>
    readdirSync(resolve(ROOT, dir))
      .filter((f) => f.endsWith('.cnn'))
      .map((f) => resolve(ROOT, dir, f)),
  );

  it.each(files)('agree with every hand-written full shape comment in %s', (path) => {
    const a = analysisOf(path);
    const hints = new Map(inlayHints(a).map((h) => [h.position.line, String(h.label)]));
    const lines = a.text.split('\n');
    lines.forEach((line, i) => {
      const written = /\S.*?\s\/\/ (\d+(?: x \d+)*)\s*$/.exec(line)?.[1];
      if (!written || line.trimStart().startsWith('//')) return;
      const hint = hints.get(i);
      expect(hint, `${path}:${i + 1} has no hint`).toBeDefined();
      // Some files write only the spatial size (`// 12` for 12 x 12 x 32): compare full shapes only.
      if (hint && hint.split(' x ').length === written.split(' x ').length) {
        expect(`${path}:${i + 1} ${hint}`).toBe(`${path}:${i + 1} // ${written}`);
      }
    });
  });

  it('shows block-call lines and repeat loops of ResNet-152 with their output shapes', () => {
    const a = analysisOf(resolve(ROOT, 'stdlib/resnet.cnn'));
    const hints = new Map(inlayHints(a).map((h) => [h.position.line, String(h.label)]));
    const line = (needle: string) => a.text.slice(0, a.text.indexOf(needle)).split('\n').length - 1;
    expect(hints.get(line('repeat 35 { bottleneck_identity(256) as layer3 }'))).toBe('// 14 x 14 x 1024');
    expect(hints.get(line('repeat 2 { bottleneck_identity(512) as layer4 }'))).toBe('// 7 x 7 x 2048');
  });

  it('a loop of 40,000 layers from one line: one hint, in bounded time (each layer used to copy the ones before it)', () => {
    const a = analyse({ uri: 'file:///virtual/loop.cnn', version: 1, text: 'model M {\n  input x: 8x8x1\n  repeat 40000 { relu }\n}\n' }, () => undefined, 60_000);
    const hints = bounded('inlay hints', () => inlayHints(a));
    expect(hints.map((h) => [h.position.line, h.label])).toEqual([[2, '// 8 x 8 x 1']]);
  });
});

describe('hover', () => {
  it('on a block call gives the block, its shapes, layer count and doc', () => {
    const a = analysisOf(resolve(ROOT, 'test/lsp/fixtures/uses-blocks.cnn'));
    const text = hoverText(a, 'unit(8)');
    expect(text).toContain('block unit');
    expect(text).toContain('16 x 16 x 3 → 16 x 16 x 8');
    expect(text).toContain('A conv, batchnorm, relu unit');
  });

  it('on a layer inside a block lists the shapes of every instance', () => {
    const a = analysisOf(resolve(ROOT, 'stdlib/resnet.cnn'));
    const text = hoverText(a, 'conv width, 3x3, pad 1', 2);
    expect(text).toMatch(/\d+ instances; shapes: /);
    expect(text).toContain('conv2');
  });

  it('on a named value gives its definition and shape', () => {
    const a = analysisOf(resolve(ROOT, 'examples/lenet5.cnn'));
    const text = hoverText(a, 'image:');
    expect(text).toContain('input image: 32 x 32 x channels');
    expect(text).toContain('shape: 32 x 32 x 3');
  });

  it('on a member access gives the inner layer of a block instance', () => {
    const path = resolve(ROOT, 'test/lsp/fixtures/scratch.cnn');
    const text = 'import "./blocks.cnn"\nmodel M {\n  input image: 8 x 8 x 3\n  u = unit(4) as first\n  output first.relu_1\n}\n';
    const a = analysisOf(path, text);
    expect(hoverText(a, 'relu_1')).toContain('**first.relu_1** (relu)');
  });

  it('on a pooling layer with a fractional size shows the rule and the rounding', () => {
    const path = resolve(ROOT, 'test/lsp/fixtures/scratch.cnn');
    const a = analysisOf(path, 'model M {\n  input image: 7 x 7 x 1\n  maxpool 2x2, stride 2, round floor\n}\n');
    expect(hoverText(a, 'maxpool')).toContain('height: (7 + 2*0 - 2)/2 + 1 = 3.5 -> 3');
  });
});

describe('quick fixes', () => {
  const path = resolve(ROOT, 'test/lsp/fixtures/shortcut.cnn');
  const text = 'block down(f)(x) {\n  y = x -> conv f, 3x3, stride 2, pad same\n  return relu(y + x)\n}\nmodel M {\n  input image: 8 x 8 x 4\n  down(16)\n  flatten -> dense 10\n}\n';

  it('projects a mismatched residual shortcut with a 1x1 convolution, and the result checks', () => {
    const a = analysisOf(path, text);
    const diagnostics: Diagnostic[] = documentDiagnostics(a);
    expect(diagnostics.map((d) => d.code)).toEqual(['CNN302']);
    const [action] = codeActions(a, diagnostics);
    const edit = action.edit?.changes?.[a.uri]?.[0];
    expect(edit?.newText).toBe('conv(x, 16, 1x1, stride 2, round floor)');
    const lines = text.split('\n');
    const line = lines[edit!.range.start.line];
    lines[edit!.range.start.line] = line.slice(0, edit!.range.start.character) + edit!.newText + line.slice(edit!.range.end.character);
    expect(documentDiagnostics(analysisOf(path, lines.join('\n')))).toEqual([]);
  });
});

describe('navigation', () => {
  it('goes from a standard-library block used in a model into stdlib/resnet.cnn', () => {
    const path = resolve(ROOT, 'test/lsp/fixtures/scratch.cnn');
    const text = 'import resnet\nmodel M {\n  input image: 56 x 56 x 256\n  bottleneck_identity(64)\n}\n';
    const a = analysisOf(path, text);
    const target = definition(a, text.indexOf('bottleneck_identity') + 3);
    expect(target?.uri).toBe(pathToUri(resolve(ROOT, 'stdlib/resnet.cnn')));
    const stdlibText = readFileSync(resolve(ROOT, 'stdlib/resnet.cnn'), 'utf8');
    expect(target?.range.start.line).toBe(stdlibText.slice(0, stdlibText.indexOf('block bottleneck_identity')).split('\n').length - 1);
    const importTarget = definition(a, 9);
    expect(importTarget?.uri).toBe(pathToUri(resolve(ROOT, 'stdlib/resnet.cnn')));
    // References reach the uses inside the standard library too.
    const refs = references(a, text.indexOf('bottleneck_identity') + 3);
    expect(refs.some((r) => r.uri === pathToUri(path))).toBe(true);
    expect(refs.filter((r) => r.uri === target?.uri).length).toBeGreaterThan(2);
  });
});

describe('completion context', () => {
  const path = resolve(ROOT, 'test/lsp/fixtures/scratch.cnn');
  it.each([
    ['', 'top'],
    ['model M {\n  ', 'statement'],
    ['model M {\n  y = x -> ', 'stage'],
    ['model M {\n  loss 0.3 * cross', 'loss'],
    ['model M {\n  maxpool 2x2, ', 'arguments'],
    ['model M {\n  identity(3, 64, ', 'arguments'],
  ])('%j is %s', (text, kind) => {
    expect(typingContext(text, text.length).kind).toBe(kind);
  });

  it('offers a block parameter list in signature help and the losses after `loss`', () => {
    const text = 'import resnet\nmodel M {\n  input image: 56 x 56 x 64\n  bottleneck_projection(64, ';
    const a = analysisOf(path, text);
    const help = signatureHelp(a, text.length);
    expect(help?.signatures[0].label).toBe('bottleneck_projection(width, stride)(x)');
    expect(help?.activeParameter).toBe(1);
    const loss = 'model M {\n  input image: 4 x 4 x 1\n  loss ';
    expect(completion(analysisOf(path, loss), loss.length).map((c) => c.label)).toEqual(expect.arrayContaining(['cross_entropy', 'triplet', 'yolo']));
  });

  it("offers the words a keyword takes, from the layer's definition", () => {
    const words = (line: string) => {
      const text = `model M {\n  input image: 8 x 8 x 1\n  ${line}`;
      return completion(analysisOf(path, text), text.length).filter((c) => c.kind === CompletionItemKind.Keyword).map((c) => c.label);
    };
    expect(words('maxpool 2x2, round ')).toEqual(['floor', 'ceil']);
    expect(words('conv 8, 3x3, round ')).toEqual(['floor']);
    expect(words('conv 8, 3x3, pad ')).toEqual(['same', 'valid']);
    expect(words('dense 10, bias ')).toEqual(['on', 'off']);
    expect(words('conv 8, 3x3, stride ')).toEqual([]);
  });
});
