// Hover: for a layer, its shape in and out, parameters, multiply-accumulates, the output-size
// arithmetic and its doc comment; for a block call, the block's signature, doc and output; for a
// named value, where it is defined; for a layer or loss name, its signature and documentation.

import type { Hover } from 'vscode-languageserver';
import type { BlockDecl } from '../grammar/ast.ts';
import { LAYERS } from '../compiler/checker/layers/index.ts';
import { LOSSES } from '../compiler/checker/loss.ts';
import { applyRule } from '../compiler/checker/output-size.ts';
import type { LayerNode } from '../compiler/graph.ts';
import type { Analysis } from './analysis.ts';
import { shapeText } from './inlay-hints.ts';
import { stageOutputs, type StageOutput } from './layer-map.ts';
import { contains, spanToRange, wordAt } from './positions.ts';
import { bodyDecls, declarationAt, definitionsIn } from './syntax.ts';

const number = (n: number) => n.toLocaleString('en-US');

export function paramCount(layer: LayerNode): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const p of layer.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (p.trainable) trainable += n;
  }
  return { total, trainable };
}

/** `height (32 + 2*0 - 5) + 1 = 28` per spatial axis of a convolution or pooling layer. */
export function outputArithmetic(layer: LayerNode): string[] {
  const a = layer.attrs;
  if (a.op !== 'conv' && a.op !== 'maxpool' && a.op !== 'avgpool') return [];
  const input = layer.inputShapes[0] ?? [];
  const spatial = input.slice(0, -1);
  const names = spatial.length === 1 ? ['length'] : spatial.length === 2 ? ['height', 'width'] : ['depth', 'height', 'width'];
  return spatial.map((n, i) => {
    const dilation = a.op === 'conv' ? a.dilation[i] : 1;
    const f = dilation * (a.kernel[i] - 1) + 1;
    const r = applyRule({ n, f, s: a.stride[i], padBefore: a.padBefore[i], padAfter: a.padAfter[i] }, a.op !== 'conv' && a.ceil);
    const rounded = r.out === r.exact ? '' : ` -> ${r.out}`;
    return `${names[i]}: ${r.arithmetic}${rounded}`;
  });
}

export function describeLayer(layer: LayerNode, source?: string): string {
  const lines: string[] = [];
  lines.push(`**${layer.name}** (${layer.attrs.op})${layer.frozen ? ' frozen' : ''}`);
  if (source) lines.push('```cnn\n' + source + '\n```');
  const ins = layer.inputShapes.map(shapeText).join(' + ');
  lines.push(`shape: ${ins} → ${shapeText(layer.shape)}`);
  const { total, trainable } = paramCount(layer);
  if (total > 0) {
    const tensors = layer.params.map((p) => `${p.role} ${p.shape.join('x')}`).join(', ');
    lines.push(`parameters: ${number(total)}${trainable !== total ? ` (${number(trainable)} trainable)` : ''} (${tensors})`);
  } else if (layer.paramOwner !== layer.name) {
    lines.push(`parameters: shared with ${layer.paramOwner}`);
  } else {
    lines.push('parameters: 0');
  }
  lines.push(`MACs: ${number(layer.macs)}`);
  const arithmetic = outputArithmetic(layer);
  if (arithmetic.length > 0) lines.push(`output size floor((n + 2p - f)/s) + 1:\n${arithmetic.map((l) => `- ${l}`).join('\n')}`);
  if (layer.doc) lines.push(layer.doc);
  return lines.join('\n\n');
}

function describeBlockCall(block: BlockDecl, output: StageOutput): string {
  const params = block.params.map((p) => p.name.name).join(', ');
  const inputs = block.inputs.map((i) => i.name).join(', ');
  const first = output.layers[0];
  const { total } = output.layers.reduce((acc, l) => ({ total: acc.total + paramCount(l).total }), { total: 0 });
  const macs = output.layers.reduce((a, l) => a + l.macs, 0);
  const lines = [`**block ${block.name.name}**(${params})(${inputs})`];
  lines.push(`shape: ${first.inputShapes.map(shapeText).join(' + ')} → ${shapeText(output.layer.shape)}`);
  lines.push(`${output.layers.length} layers, parameters: ${number(total)}, MACs: ${number(macs)}`);
  if (block.doc) lines.push(block.doc);
  return lines.join('\n\n');
}

export function hover(analysis: Analysis, offset: number): Hover | undefined {
  const word = wordAt(analysis.text, offset);
  const decl = declarationAt(analysis.source, offset);
  // A layer written here (in a model, or in a block: then the first instance of it).
  const here = analysis.graphs.flatMap((g) => g.layers).filter((l) => l.span.file === analysis.path && contains(l.span, offset));
  if (word) {
    const block = analysis.program.blocks.get(word.word);
    const outputs = block ? stageOutputs(analysis).filter((o) => contains(o.span, offset)) : [];
    const call = outputs.find((o) => o.span.startOffset <= word.start && !here.some((l) => contains(o.span, l.span.startOffset)));
    if (block && call) return { contents: { kind: 'markdown', value: describeBlockCall(block, call) }, range: spanToRange(call.span) };
    if (block) return { contents: { kind: 'markdown', value: `**block ${block.name.name}**(${block.params.map((p) => p.name.name).join(', ')})(${block.inputs.map((i) => i.name).join(', ')})${block.doc ? `\n\n${block.doc}` : ''}` } };
  }
  if (here.length > 0) {
    const smallest = here.reduce((a, b) => (b.span.endOffset - b.span.startOffset < a.span.endOffset - a.span.startOffset ? b : a));
    const same = here.filter((l) => l.span.startOffset === smallest.span.startOffset && l.span.endOffset === smallest.span.endOffset);
    const source = analysis.text.slice(smallest.span.startOffset, smallest.span.endOffset);
    let value = describeLayer(smallest, source);
    if (same.length > 1) value += `\n\n(${same.length} instances; shapes: ${same.map((l) => shapeText(l.shape)).join(', ')})`;
    return { contents: { kind: 'markdown', value }, range: spanToRange(smallest.span) };
  }
  if (!word) return undefined;
  // `vgg.conv4_2`, `g.conv1_1`: a layer inside a block instance, by its full name.
  const path = /[A-Za-z_][A-Za-z0-9_.]*$/.exec(analysis.text.slice(0, word.end))?.[0];
  if (path?.includes('.') && decl?.kind === 'model') {
    const graph = analysis.graphs.find((g) => g.name === decl.name.name);
    const layer = graph?.layers.find((l) => l.name === path);
    if (layer) return { contents: { kind: 'markdown', value: describeLayer(layer) } };
  }
  if (decl && decl.kind !== 'import') {
    const def = definitionsIn(decl).find((d) => d.name.name === word.word);
    if (def) {
      const definedAt = analysis.text.slice(def.span.startOffset, def.span.endOffset).split('\n')[0];
      // In a model, the tensor the name stands for has a shape.
      const graph = decl.kind === 'model' ? analysis.graphs.find((g) => g.name === decl.name.name) : undefined;
      const tensor = graph?.inputs.find((i) => i.name === word.word) ?? graph?.layers.find((l) => l.name === word.word);
      const shape = tensor ? `\n\nshape: ${shapeText(tensor.shape)}` : '';
      return { contents: { kind: 'markdown', value: `**${word.word}** (${def.kind})\n\n\`\`\`cnn\n${definedAt}\n\`\`\`${shape}${def.doc ? `\n\n${def.doc}` : ''}` } };
    }
  }
  const spec = LAYERS[word.word];
  if (spec) return { contents: { kind: 'markdown', value: `\`${spec.signature}\`\n\n${spec.doc}` } };
  const loss = LOSSES[word.word];
  if (loss) return { contents: { kind: 'markdown', value: `\`${loss.signature}\`\n\n${loss.doc}` } };
  const model = bodyDecls(analysis.source).find((d) => d.name.name === word.word && d.kind === 'model');
  if (model?.doc) return { contents: { kind: 'markdown', value: `**model ${model.name.name}**\n\n${model.doc}` } };
  return undefined;
}
