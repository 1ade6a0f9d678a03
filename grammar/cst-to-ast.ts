// Turns chevrotain's CST into the AST of ast.ts. After error recovery a CST can miss any child,
// so every accessor tolerates absence and the converter drops what it cannot read: the syntax
// errors are already reported by the parser.

import type { CstElement, CstNode, IToken } from 'chevrotain';
import { ERROR_NAME, type Argument, type BinaryOperator, type Declaration, type Expr, type Identifier, type Parameter, type Stage, type Statement } from './ast.ts';
import { diagnostic, messages, type Diagnostic } from './diagnostics.ts';
import type { Span } from './span.ts';

/**
 * How deep one expression's tree may be. `a + b + c` is a left-leaning tree as deep as it has
 * operators, and the checker, hover and the loss collector walk it recursively.
 */
export const MAX_EXPRESSION_DEPTH = 256;

function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'negate':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'dims':
      return e.items;
    case 'call':
      return [e.callee, ...e.args.map((a) => a.value)];
    case 'member':
      return [e.object];
    case 'layer':
      return e.args.map((a) => a.value);
    default:
      return [];
  }
}

/** Depth of an expression tree, without recursion (the tree may be deep: that is what is measured). */
function depthOf(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [e, d] = stack.pop()!;
    if (d > max) max = d;
    for (const c of children(e)) stack.push([c, d + 1]);
  }
  return max;
}

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

function nodes(n: CstNode | undefined, key: string): CstNode[] {
  return ((n?.children[key] ?? []) as CstElement[]).filter((e): e is CstNode => !isToken(e));
}

function node(n: CstNode | undefined, key: string, index = 0): CstNode | undefined {
  return nodes(n, key)[index];
}

function tokens(n: CstNode | undefined, key: string): IToken[] {
  return ((n?.children[key] ?? []) as CstElement[]).filter(isToken).filter((t) => !Number.isNaN(t.startOffset));
}

function token(n: CstNode | undefined, key: string, index = 0): IToken | undefined {
  return tokens(n, key)[index];
}

function offsetOf(e: CstElement): number {
  return isToken(e) ? e.startOffset : (e.location?.startOffset ?? Number.NaN);
}

/** Every child of a node in source order, tokens and nodes alike (recovered, position-less ones dropped). */
function childrenInOrder(n: CstNode): CstElement[] {
  const keyed: { readonly e: CstElement; readonly at: number }[] = [];
  for (const key in n.children) {
    for (const e of n.children[key] as CstElement[]) {
      const at = offsetOf(e);
      if (!Number.isNaN(at)) keyed.push({ e, at });
    }
  }
  // Each key's list is in order, so this merges sorted runs: linear for a 50,000-term sum, where
  // an insertion sort of operands then operators was quadratic.
  return keyed.sort((a, b) => a.at - b.at).map((k) => k.e);
}

export class AstBuilder {
  /** Structure the builder refused to keep (too deep), as diagnostics. */
  readonly problems: Diagnostic[] = [];
  /** The first token of what each broken statement left over before its line's end. */
  readonly strays: IToken[] = [];

  /** `docs` maps a line number to the text of the `///` comment on it. */
  constructor(
    private readonly file: string,
    private readonly docs: ReadonlyMap<number, string> = new Map(),
  ) {}

  /** The `///` lines directly above `line`, joined. */
  private docAbove(line: number): string | undefined {
    const lines: string[] = [];
    for (let l = line - 1; this.docs.has(l); l--) lines.unshift(this.docs.get(l)!);
    return lines.length > 0 ? lines.join('\n') : undefined;
  }

  tokenSpan(t: IToken): Span {
    return {
      file: this.file,
      startOffset: t.startOffset,
      endOffset: (t.endOffset ?? t.startOffset) + 1,
      startLine: t.startLine ?? 1,
      startColumn: t.startColumn ?? 1,
      endLine: t.endLine ?? t.startLine ?? 1,
      endColumn: (t.endColumn ?? t.startColumn ?? 1) + 1,
    };
  }

  nodeSpan(n: CstNode): Span {
    const loc = n.location;
    if (!loc || Number.isNaN(loc.startOffset)) {
      return { file: this.file, startOffset: 0, endOffset: 0, startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 };
    }
    return {
      file: this.file,
      startOffset: loc.startOffset,
      endOffset: (loc.endOffset ?? loc.startOffset) + 1,
      startLine: loc.startLine ?? 1,
      startColumn: loc.startColumn ?? 1,
      endLine: loc.endLine ?? loc.startLine ?? 1,
      endColumn: (loc.endColumn ?? loc.startColumn ?? 1) + 1,
    };
  }

  private identifier(t: IToken | undefined): Identifier | undefined {
    return t ? { name: t.image, span: this.tokenSpan(t) } : undefined;
  }

  declarations(file: CstNode): { decl: Declaration; line: number }[] {
    const out: { decl: Declaration; line: number }[] = [];
    for (const top of nodes(file, 'topDecl')) {
      const decl = this.declaration(top);
      if (decl) out.push({ decl, line: decl.span.startLine });
    }
    return out;
  }

  private declaration(top: CstNode): Declaration | undefined {
    const imp = node(top, 'importDecl');
    if (imp) {
      const str = token(imp, 'StringLiteral');
      const id = token(imp, 'Identifier');
      if (str) return { kind: 'import', target: str.image.slice(1, -1), isStdlib: false, span: this.nodeSpan(imp) };
      if (id) return { kind: 'import', target: id.image, isStdlib: true, span: this.nodeSpan(imp) };
      return undefined;
    }
    const model = node(top, 'modelDecl');
    if (model) {
      const name = this.identifier(token(model, 'Identifier'));
      if (!name) return undefined;
      const params = this.params(node(model, 'paramList'));
      this.reportDuplicates(name.name, params.map((p) => p.name));
      const span = this.nodeSpan(model);
      return { kind: 'model', name, params, body: this.body(node(model, 'body')), doc: this.docAbove(span.startLine), span };
    }
    const block = node(top, 'blockDecl');
    if (block) {
      const name = this.identifier(token(block, 'Identifier'));
      if (!name) return undefined;
      const inputs = tokens(node(block, 'inputList'), 'Identifier').map((t) => ({ name: t.image, span: this.tokenSpan(t) }));
      const params = this.params(node(block, 'paramList'));
      this.reportDuplicates(name.name, [...params.map((p) => p.name), ...inputs]);
      return {
        kind: 'block',
        name,
        params,
        inputs,
        body: this.body(node(block, 'body')),
        doc: this.docAbove(this.nodeSpan(block).startLine),
        span: this.nodeSpan(block),
      };
    }
    return undefined;
  }

  /** A parameter or input name written twice in one header: the second would silently shadow the first. */
  private reportDuplicates(owner: string, names: readonly Identifier[]): void {
    const seen = new Map<string, Identifier>();
    for (const n of names) {
      const first = seen.get(n.name);
      if (first) this.problems.push(diagnostic(n.span, messages.duplicateName.parameter({ owner, name: n.name, firstColumn: first.span.startColumn })));
      else seen.set(n.name, n);
    }
  }

  private params(list: CstNode | undefined): Parameter[] {
    const out: Parameter[] = [];
    for (const p of nodes(list, 'param')) {
      const name = this.identifier(token(p, 'Identifier'));
      if (!name) continue;
      const def = this.expression(node(p, 'expression'));
      out.push(def ? { name, default: def } : { name });
    }
    return out;
  }

  private body(body: CstNode | undefined): Statement[] {
    for (const stray of nodes(body, 'stray')) {
      const first = tokens(stray, 'Stray')[0];
      if (first) this.strays.push(first);
    }
    return nodes(body, 'statement')
      .map((s) => this.statement(s))
      .filter((s): s is Statement => s !== undefined);
  }

  private statement(st: CstNode): Statement | undefined {
    const [inner] = childrenInOrder(st).filter((e): e is CstNode => !isToken(e));
    if (!inner) return undefined;
    const span = this.nodeSpan(inner);
    switch (inner.name) {
      case 'inputStatement': {
        const name = this.identifier(token(inner, 'Identifier'));
        const shape = this.expression(node(inner, 'expression'));
        if (!name || !shape) return undefined;
        return { kind: 'input', name, shape, trainable: tokens(inner, 'Trainable').length > 0, doc: this.docAbove(span.startLine), span };
      }
      case 'outputStatement':
        return { kind: 'output', values: this.expressions(inner), span };
      case 'lossStatement': {
        const expr = this.expression(node(inner, 'expression'));
        return expr ? { kind: 'loss', expr, span } : undefined;
      }
      case 'returnStatement':
        return { kind: 'return', stages: this.chain(node(inner, 'chain')), span };
      case 'freezeStatement':
        return { kind: 'freeze', targets: this.expressions(inner), span };
      case 'shareStatement': {
        const name = this.identifier(token(inner, 'Identifier'));
        const value = this.expression(node(inner, 'expression'));
        return name && value ? { kind: 'share', name, value, span } : undefined;
      }
      case 'repeatStatement': {
        const count = this.expression(node(inner, 'expression'));
        return count ? { kind: 'repeat', count, body: this.body(node(inner, 'body')), span } : undefined;
      }
      case 'forStatement': {
        const variable = this.identifier(token(inner, 'Identifier'));
        const from = this.expression(node(inner, 'expression', 0));
        const to = this.expression(node(inner, 'expression', 1));
        if (!variable || !from || !to) return undefined;
        return { kind: 'for', variable, from, to, body: this.body(node(inner, 'body')), span };
      }
      case 'chainStatement': {
        const target = tokens(inner, 'Equals').length > 0 ? this.identifier(token(inner, 'Identifier')) : undefined;
        const stages = this.chain(node(inner, 'chain'));
        if (stages.length === 0) return undefined;
        const doc = this.docAbove(span.startLine);
        return { kind: 'chain', ...(target ? { target } : {}), stages, ...(doc ? { doc } : {}), span };
      }
      default:
        return undefined;
    }
  }

  private expressions(n: CstNode): Expr[] {
    return nodes(n, 'expression')
      .map((e) => this.expression(e))
      .filter((e): e is Expr => e !== undefined);
  }

  private chain(chain: CstNode | undefined): Stage[] {
    const out: Stage[] = [];
    for (const st of nodes(chain, 'stage')) {
      const layer = node(st, 'layerCall');
      const expr = layer ? this.layerCall(layer) : this.expression(node(st, 'expression'));
      if (!expr) continue;
      const alias = this.identifier(token(st, 'Identifier'));
      out.push(alias ? { expr, alias, span: this.nodeSpan(st) } : { expr, span: this.nodeSpan(st) });
    }
    return out;
  }

  private layerCall(n: CstNode): Expr | undefined {
    const op = token(n, 'Identifier');
    if (!op) return undefined;
    return { kind: 'layer', op: op.image, opSpan: this.tokenSpan(op), args: this.arguments(n), span: this.nodeSpan(n) };
  }

  private arguments(n: CstNode): Argument[] {
    const out: Argument[] = [];
    for (const a of nodes(n, 'argument')) {
      const value = this.expression(node(a, 'expression'));
      if (!value) continue;
      const name = token(a, 'Identifier');
      const span = this.nodeSpan(a);
      out.push(name ? { name: name.image, nameSpan: this.tokenSpan(name), value, span } : { value, span });
    }
    return out;
  }

  /** An expression, or a placeholder the checker skips quietly when it is too deep to keep. */
  expression(n: CstNode | undefined): Expr | undefined {
    const e = this.flatExpression(n);
    if (!e || depthOf(e) <= MAX_EXPRESSION_DEPTH) return e;
    this.problems.push(diagnostic(e.span, messages.tooDeep.expression({ max: MAX_EXPRESSION_DEPTH })));
    return { kind: 'name', name: ERROR_NAME, span: e.span };
  }

  /** A flat `operand (operator operand)*` run, with `x` below `+ -` below `* / %`. */
  private flatExpression(n: CstNode | undefined): Expr | undefined {
    if (!n) return undefined;
    const operands: Expr[] = [];
    const operators: string[] = [];
    for (const e of childrenInOrder(n)) {
      if (isToken(e)) {
        operators.push(e.tokenType.name === 'Cross' || e.tokenType.name === 'Identifier' ? 'x' : e.image);
        continue;
      }
      const operand = this.operand(e);
      if (!operand) break;
      operands.push(operand);
    }
    if (operands.length === 0) return undefined;
    operators.length = operands.length - 1;
    // Split on `x` into per-axis sizes, then fold each size's arithmetic by precedence.
    const groups: { operands: Expr[]; operators: BinaryOperator[] }[] = [{ operands: [operands[0]], operators: [] }];
    operators.forEach((op, i) => {
      if (op === 'x') groups.push({ operands: [operands[i + 1]], operators: [] });
      else {
        const g = groups[groups.length - 1];
        g.operators.push(op as BinaryOperator);
        g.operands.push(operands[i + 1]);
      }
    });
    const items = groups.map((g) => foldArithmetic(g.operands, g.operators));
    if (items.length === 1) return items[0];
    return { kind: 'dims', items, span: spanBetween(items[0].span, items[items.length - 1].span) };
  }

  /** `-x`, `3`, `name`, `(expr)`, then calls `(args)` and members `.name`. */
  private operand(n: CstNode): Expr | undefined {
    const elems = childrenInOrder(n);
    let i = 0;
    const minuses: IToken[] = [];
    while (i < elems.length && isToken(elems[i]) && (elems[i] as IToken).tokenType.name === 'Minus') minuses.push(elems[i++] as IToken);
    let result: Expr | undefined;
    const atom = elems[i++];
    if (!atom) return undefined;
    if (isToken(atom)) {
      const span = this.tokenSpan(atom);
      switch (atom.tokenType.name) {
        case 'NumberLiteral':
          result = { kind: 'number', value: Number(atom.image), raw: atom.image, span };
          break;
        case 'StringLiteral':
          result = { kind: 'string', value: atom.image.slice(1, -1), span };
          break;
        case 'Identifier':
          result = { kind: 'name', name: atom.image, span };
          break;
        case 'LParen': {
          const inner = elems[i] && !isToken(elems[i]) ? this.flatExpression(elems[i] as CstNode) : undefined;
          const close = elems[i + 1];
          i += 2;
          if (!inner) return undefined;
          // A parenthesised expression spans its parentheses, so errors underline `(k - 1)` whole.
          result = close && isToken(close) && close.tokenType.name === 'RParen' ? { ...inner, span: spanBetween(span, this.tokenSpan(close)) } : inner;
          break;
        }
      }
    }
    if (!result) return undefined;
    for (; i < elems.length; i++) {
      const e = elems[i];
      if (!isToken(e) && e.name === 'callArgs') {
        result = { kind: 'call', callee: result, args: this.arguments(e), span: spanBetween(result.span, this.nodeSpan(e)) };
      } else if (isToken(e) && e.tokenType.name === 'Dot') {
        const id = elems[i + 1];
        if (!id || !isToken(id)) break;
        i++;
        const nameSpan = this.tokenSpan(id);
        result = { kind: 'member', object: result, name: id.image, nameSpan, span: spanBetween(result.span, nameSpan) };
      }
    }
    for (const minus of minuses.reverse()) result = { kind: 'negate', operand: result, span: spanBetween(this.tokenSpan(minus), result.span) };
    return result;
  }
}

function spanBetween(start: Span, end: Span): Span {
  return { ...start, endOffset: end.endOffset, endLine: end.endLine, endColumn: end.endColumn };
}

const PRECEDENCE: Record<BinaryOperator, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2 };

/** Left-associative precedence folding of `a + b * c - d`. */
function foldArithmetic(operands: readonly Expr[], operators: readonly BinaryOperator[]): Expr {
  const values: Expr[] = [operands[0]];
  const pending: BinaryOperator[] = [];
  const reduce = () => {
    const right = values.pop()!;
    const left = values.pop()!;
    const op = pending.pop()!;
    values.push({ kind: 'binary', op, left, right, span: spanBetween(left.span, right.span) });
  };
  operators.forEach((op, i) => {
    while (pending.length > 0 && PRECEDENCE[pending[pending.length - 1]] >= PRECEDENCE[op]) reduce();
    pending.push(op);
    values.push(operands[i + 1]);
  });
  while (pending.length > 0) reduce();
  return values[0];
}
