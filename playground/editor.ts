// The code editor: CodeMirror 6 with the checker's diagnostics as lint marks, each line's output
// shape as an inlay hint at its end, and a hover that describes the layers under the pointer.

import { basicSetup, EditorView } from 'codemirror';
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { StateEffect, StateField, type Extension, type Text } from '@codemirror/state';
import { Decoration, hoverTooltip, WidgetType, type DecorationSet } from '@codemirror/view';
import type { Diagnostic } from '../compiler/diagnostics.ts';
import type { ModelGraph } from '../compiler/graph.ts';
import { checkText, hoverText, shapesByLine, type Checked } from './check.ts';

class ShapeHint extends WidgetType {
  constructor(readonly shape: string) {
    super();
  }
  override eq(other: ShapeHint): boolean {
    return other.shape === this.shape;
  }
  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = 'cm-shape-hint';
    span.textContent = this.shape;
    return span;
  }
}

const setHints = StateEffect.define<DecorationSet>();
const hintField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update: (value, tr) => tr.effects.reduce((v, e) => (e.is(setHints) ? e.value : v), value.map(tr.changes)),
  provide: (f) => EditorView.decorations.from(f),
});

function hintsFor(doc: Text, graph: ModelGraph | undefined): DecorationSet {
  if (!graph) return Decoration.none;
  const widgets = [...shapesByLine(graph)]
    .filter(([line]) => line >= 1 && line <= doc.lines)
    .sort(([a], [b]) => a - b)
    .map(([line, shape]) => Decoration.widget({ widget: new ShapeHint(shape), side: 1 }).range(doc.line(line).to));
  return Decoration.set(widgets);
}

function toLint(doc: Text, d: Diagnostic): LintDiagnostic {
  const from = Math.min(d.span.startOffset, doc.length);
  const to = Math.min(Math.max(d.span.endOffset, from), doc.length);
  return { from, to, severity: d.severity === 'error' ? 'error' : 'warning', message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message, source: d.code };
}

export interface PlaygroundEditor {
  readonly view: EditorView;
  setText(text: string): void;
}

/**
 * `onChecked` receives every check result; `pickGraph` says which model's shapes the hints and
 * hovers show (the one the page has selected).
 */
export function createEditor(parent: HTMLElement, text: string, onChecked: (c: Checked) => void, pickGraph: (c: Checked) => ModelGraph | undefined): PlaygroundEditor {
  let last: Checked | undefined;
  const check = linter(
    (view) => {
      const checked = checkText(view.state.doc.toString());
      last = checked;
      onChecked(checked);
      view.dispatch({ effects: setHints.of(hintsFor(view.state.doc, pickGraph(checked))) });
      return checked.diagnostics.map((d) => toLint(view.state.doc, d));
    },
    { delay: 250 },
  );
  const hover = hoverTooltip((_view, pos) => {
    const graph = last ? pickGraph(last) : undefined;
    const text = graph ? hoverText(graph, pos) : undefined;
    if (text === undefined) return null;
    return {
      pos,
      create: () => {
        const dom = document.createElement('div');
        dom.className = 'cm-layer-hover';
        dom.textContent = text;
        return { dom };
      },
    };
  });
  const extensions: Extension[] = [basicSetup, lintGutter(), check, hintField, hover, EditorView.theme({ '&': { height: '100%' }, '.cm-scroller': { overflow: 'auto' } })];
  const view = new EditorView({ doc: text, extensions, parent });
  return {
    view,
    setText: (t) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } }),
  };
}
