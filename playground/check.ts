// The checker, in the page: the editor's text through the language server's analysis (the same
// front end as `cnnc check`), with imports served from the page's copy of the standard library.
// Inlay hints and hovers are the language server's own providers, so the page shows what an
// editor shows.

import type { Diagnostic } from '../grammar/diagnostics.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { analyse, type Analysis } from '../lsp/analysis.ts';
import { hover } from '../lsp/hover.ts';
import { inlayHints } from '../lsp/inlay-hints.ts';
import { EDITOR_FILE } from './files.ts';

export interface Checked {
  readonly analysis: Analysis;
  /** Diagnostics located in the editor's text (imports' own are reported by their files). */
  readonly diagnostics: readonly Diagnostic[];
  readonly graphs: readonly ModelGraph[];
}

let version = 0;

export function checkText(text: string): Checked {
  // A plain path as the uri: the analysis resolves it like a file on disk.
  const analysis = analyse({ uri: EDITOR_FILE, version: ++version, text });
  return { analysis, diagnostics: analysis.diagnostics.filter((d) => d.span.file === analysis.path), graphs: analysis.graphs };
}

export interface ShapeHint {
  /** 0-based, as the language server counts. */
  readonly line: number;
  readonly character: number;
  /** `28 x 28 x 6` */
  readonly shape: string;
}

export function shapeHints(c: Checked): ShapeHint[] {
  return inlayHints(c.analysis).map((h) => ({
    line: h.position.line,
    character: h.position.character,
    shape: (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')).replace(/^\/\/\s*/, ''),
  }));
}

/** The hover's Markdown at `offset`, if there is one. */
export function hoverMarkdown(c: Checked, offset: number): string | undefined {
  const contents = hover(c.analysis, offset)?.contents;
  if (contents === undefined) return undefined;
  if (typeof contents === 'string') return contents;
  if ('kind' in contents) return contents.value;
  return Array.isArray(contents) ? contents.map((m) => (typeof m === 'string' ? m : m.value)).join('\n\n') : contents.value;
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** The little Markdown hovers use: paragraphs, **bold**, `code`, fenced code and `- ` lists. */
export function markdownToHtml(markdown: string): string {
  return markdown
    .split(/\n{2,}/)
    .map((block) => {
      const fenced = /^```\w*\n([\s\S]*?)\n?```$/.exec(block);
      if (fenced) return `<pre>${escapeHtml(fenced[1]!)}</pre>`;
      const inline = escapeHtml(block)
        .replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')
        .replace(/`([^`]+)`/g, '<code>$1</code>')
        .replace(/\n- /g, '<br>• ')
        .replace(/\n/g, '<br>');
      return `<p>${inline}</p>`;
    })
    .join('');
}
