// Walks the AST for editor features: the declaration around a position, the names a declaration
// defines (inputs, `y = ...`, `as name`, parameters, loop variables, shared instances) and every
// place a name is used.

import type { BlockDecl, Declaration, Expr, Identifier, ModelDecl, SourceFile, Stage, Statement } from '../grammar/ast.ts';
import type { Span } from '../grammar/span.ts';
import { contains } from './positions.ts';

export type BodyDecl = ModelDecl | BlockDecl;

export type DefinitionKind = 'parameter' | 'input' | 'value' | 'layer' | 'shared' | 'loop variable';

export interface NamedDefinition {
  readonly name: Identifier;
  readonly kind: DefinitionKind;
  readonly doc?: string;
  /** The statement that defines it. */
  readonly span: Span;
}

export interface NameUse {
  readonly name: string;
  readonly span: Span;
  /** Called or used as a stage, so it may name a block or a layer. */
  readonly callee: boolean;
}

export function bodyDecls(source: SourceFile): BodyDecl[] {
  return source.declarations.filter((d): d is BodyDecl => d.kind !== 'import');
}

export function declarationAt(source: SourceFile, offset: number): Declaration | undefined {
  return source.declarations.find((d) => contains(d.span, offset));
}

export function forEachStatement(body: readonly Statement[], fn: (st: Statement, inLoop: boolean) => void, inLoop = false): void {
  for (const st of body) {
    fn(st, inLoop);
    if (st.kind === 'repeat' || st.kind === 'for') forEachStatement(st.body, fn, true);
  }
}

export function stagesOf(st: Statement): readonly Stage[] {
  return st.kind === 'chain' || st.kind === 'return' ? st.stages : [];
}

/** Expressions a statement holds directly (not those of nested bodies). */
export function expressionsOf(st: Statement): Expr[] {
  switch (st.kind) {
    case 'input':
      return [st.shape];
    case 'output':
    case 'freeze':
      return st.kind === 'output' ? [...st.values] : [...st.targets];
    case 'loss':
      return [st.expr];
    case 'share':
      return [st.value];
    case 'repeat':
      return [st.count];
    case 'for':
      return [st.from, st.to];
    case 'chain':
    case 'return':
      return st.stages.map((s) => s.expr);
  }
}

export function definitionsIn(decl: BodyDecl): NamedDefinition[] {
  const out: NamedDefinition[] = decl.params.map((p) => ({ name: p.name, kind: 'parameter' as const, span: p.name.span }));
  if (decl.kind === 'block') out.push(...decl.inputs.map((i) => ({ name: i, kind: 'input' as const, span: i.span })));
  forEachStatement(decl.body, (st) => {
    if (st.kind === 'input') out.push({ name: st.name, kind: 'input', span: st.span, ...(st.doc ? { doc: st.doc } : {}) });
    if (st.kind === 'share') out.push({ name: st.name, kind: 'shared', span: st.span });
    if (st.kind === 'for') out.push({ name: st.variable, kind: 'loop variable', span: st.variable.span });
    if (st.kind === 'chain' && st.target) out.push({ name: st.target, kind: 'value', span: st.span, ...(st.doc ? { doc: st.doc } : {}) });
    for (const stage of stagesOf(st)) if (stage.alias) out.push({ name: stage.alias, kind: 'layer', span: stage.span });
  });
  return out;
}

function usesIn(e: Expr, callee: boolean, out: NameUse[]): void {
  switch (e.kind) {
    case 'name':
      out.push({ name: e.name, span: e.span, callee });
      return;
    case 'negate':
      usesIn(e.operand, false, out);
      return;
    case 'binary':
      usesIn(e.left, false, out);
      usesIn(e.right, false, out);
      return;
    case 'dims':
      for (const item of e.items) usesIn(item, false, out);
      return;
    case 'call':
      usesIn(e.callee, true, out);
      for (const a of e.args) usesIn(a.value, false, out);
      return;
    case 'member':
      usesIn(e.object, false, out);
      return;
    case 'layer':
      out.push({ name: e.op, span: e.opSpan, callee: true });
      for (const a of e.args) usesIn(a.value, false, out);
      return;
    default:
      return;
  }
}

/** Every name written in a declaration's body and parameter defaults. */
export function nameUses(decl: BodyDecl): NameUse[] {
  const out: NameUse[] = [];
  for (const p of decl.params) if (p.default) usesIn(p.default, false, out);
  forEachStatement(decl.body, (st) => {
    const stages = stagesOf(st);
    if (stages.length > 0) stages.forEach((s) => usesIn(s.expr, true, out));
    else for (const e of expressionsOf(st)) usesIn(e, false, out);
  });
  return out;
}

/** The innermost stage around an offset, with the statement that holds it. */
export function stageAt(decl: BodyDecl, offset: number): { stage: Stage; statement: Statement } | undefined {
  let found: { stage: Stage; statement: Statement } | undefined;
  forEachStatement(decl.body, (st) => {
    for (const stage of stagesOf(st)) if (contains(stage.span, offset)) found = { stage, statement: st };
  });
  return found;
}
