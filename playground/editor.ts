// The code editor: CodeMirror 6 with the checker's diagnostics as lint marks, each line's output
// shape as an inlay hint at its end, and a hover that describes the layers under the pointer.

import { basicSetup, EditorView } from 'codemirror';
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { StateEffect, StateField, type Extension, type Text } from '@codemirror/state';
import { Decoration, hoverTooltip, WidgetType, type DecorationSet } from '@codemirror/view';
import type { Diagnostic } from '../grammar/diagnostics.ts';
import { checkText, hoverMarkdown, markdownToHtml, shapeHints, type Checked } from './check.ts';

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

function hintsFor(doc: Text, checked: Checked): DecorationSet {
  const widgets = shapeHints(checked)
    .filter((h) => h.line < doc.lines)
    .map((h) => {
      const line = doc.line(h.line + 1);
      return Decoration.widget({ widget: new ShapeHint(h.shape), side: 1 }).range(Math.min(line.from + h.character, line.to));
    });
  return Decoration.set(widgets, true);
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

/** `onChecked` receives every check result (diagnostics, graphs) as the text changes. */
export function createEditor(parent: HTMLElement, text: string, onChecked: (c: Checked) => void): PlaygroundEditor {
  let last: Checked | undefined;
  const check = linter(
    (view) => {
      const checked = checkText(view.state.doc.toString());
      last = checked;
      onChecked(checked);
      view.dispatch({ effects: setHints.of(hintsFor(view.state.doc, checked)) });
      return checked.diagnostics.map((d) => toLint(view.state.doc, d));
    },
    { delay: 250 },
  );
  const hover = hoverTooltip((_view, pos) => {
    const markdown = last ? hoverMarkdown(last, pos) : undefined;
    if (markdown === undefined) return null;
    return {
      pos,
      create: () => {
        const dom = document.createElement('div');
        dom.className = 'cm-layer-hover';
        dom.innerHTML = markdownToHtml(markdown);
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
