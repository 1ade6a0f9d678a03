// Turns chevrotain's CST into the AST of ast.ts. After error recovery a CST can miss any child,
// so every accessor tolerates absence and the converter drops what it cannot read: the syntax
// errors are already reported by the parser.

import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { Argument, BinaryOperator, Declaration, Expr, Identifier, Parameter, Stage, Statement } from './ast.ts';
import type { Span } from './span.ts';

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

/** Every child of a node in source order, tokens and nodes alike. */
function childrenInOrder(n: CstNode): CstElement[] {
  const all = Object.values(n.children).flat() as CstElement[];
  const offset = (e: CstElement) => (isToken(e) ? e.startOffset : (e.location?.startOffset ?? Number.MAX_SAFE_INTEGER));
  return all.filter((e) => !Number.isNaN(offset(e))).sort((a, b) => offset(a) - offset(b));
}

export class AstBuilder {
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
      const span = this.nodeSpan(model);
      return { kind: 'model', name, params, body: this.body(node(model, 'body')), doc: this.docAbove(span.startLine), span };
    }
    const block = node(top, 'blockDecl');
    if (block) {
      const name = this.identifier(token(block, 'Identifier'));
      if (!name) return undefined;
      const inputs = tokens(node(block, 'inputList'), 'Identifier').map((t) => ({ name: t.image, span: this.tokenSpan(t) }));
      return {
        kind: 'block',
        name,
        params: this.params(node(block, 'paramList')),
        inputs,
        body: this.body(node(block, 'body')),
        doc: this.docAbove(this.nodeSpan(block).startLine),
        span: this.nodeSpan(block),
      };
    }
    return undefined;
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

  expression(n: CstNode | undefined): Expr | undefined {
    if (!n) return undefined;
    switch (n.name) {
      case 'expression': {
        const items = nodes(n, 'additive')
          .map((a) => this.expression(a))
          .filter((e): e is Expr => e !== undefined);
        if (items.length === 0) return undefined;
        return items.length === 1 ? items[0] : { kind: 'dims', items, span: this.nodeSpan(n) };
      }
      case 'additive':
      case 'multiplicative':
        return this.binaryChain(n);
      case 'unary': {
        const operand = this.expression(node(n, 'unary') ?? node(n, 'postfix'));
        if (!operand) return undefined;
        return tokens(n, 'Minus').length > 0 ? { kind: 'negate', operand, span: this.nodeSpan(n) } : operand;
      }
      case 'postfix':
        return this.postfix(n);
      case 'primary':
        return this.primary(n);
      default:
        return undefined;
    }
  }

  /** Left-associative `a + b - c` from the interleaved operands and operator tokens. */
  private binaryChain(n: CstNode): Expr | undefined {
    let result: Expr | undefined;
    let pending: BinaryOperator | undefined;
    for (const e of childrenInOrder(n)) {
      if (isToken(e)) {
        pending = e.image as BinaryOperator;
        continue;
      }
      const operand = this.expression(e);
      if (!operand) return result;
      if (result && pending) {
        result = {
          kind: 'binary',
          op: pending,
          left: result,
          right: operand,
          span: { ...result.span, endOffset: operand.span.endOffset, endLine: operand.span.endLine, endColumn: operand.span.endColumn },
        };
      } else {
        result = operand;
      }
    }
    return result;
  }

  private postfix(n: CstNode): Expr | undefined {
    let result: Expr | undefined;
    for (const e of childrenInOrder(n)) {
      if (!result) {
        if (!isToken(e) && e.name === 'primary') result = this.primary(e);
        continue;
      }
      const start = result.span;
      if (!isToken(e) && e.name === 'callArgs') {
        const end = this.nodeSpan(e);
        result = { kind: 'call', callee: result, args: this.arguments(e), span: { ...start, endOffset: end.endOffset, endLine: end.endLine, endColumn: end.endColumn } };
      } else if (isToken(e) && e.tokenType.name === 'Identifier') {
        const nameSpan = this.tokenSpan(e);
        result = {
          kind: 'member',
          object: result,
          name: e.image,
          nameSpan,
          span: { ...start, endOffset: nameSpan.endOffset, endLine: nameSpan.endLine, endColumn: nameSpan.endColumn },
        };
      }
    }
    return result;
  }

  private primary(n: CstNode): Expr | undefined {
    const num = token(n, 'NumberLiteral');
    if (num) return { kind: 'number', value: Number(num.image), raw: num.image, span: this.tokenSpan(num) };
    const str = token(n, 'StringLiteral');
    if (str) return { kind: 'string', value: str.image.slice(1, -1), span: this.tokenSpan(str) };
    const id = token(n, 'Identifier');
    if (id) return { kind: 'name', name: id.image, span: this.tokenSpan(id) };
    const inner = this.expression(node(n, 'expression'));
    const open = token(n, 'LParen');
    const close = token(n, 'RParen');
    // A parenthesised expression spans its parentheses, so errors underline `(k - 1)` whole.
    if (inner && open && close) return { ...inner, span: { ...this.tokenSpan(open), endOffset: close.endOffset! + 1, endLine: close.endLine!, endColumn: close.endColumn! + 1 } };
    return inner;
  }
}
