// The syntax tree of a .cnn file, built from chevrotain's CST by cst-to-ast.ts. It says what was
// written, not what it means: `conv` here is just a name until the checker resolves it.

import type { Span } from './span.ts';

/** The name of a part the AST builder dropped after reporting it: checking stops there quietly. */
export const ERROR_NAME = '<error>';

export type BinaryOperator = '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly raw: string; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'negate'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly span: Span }
  /** `32 x 32 x 3`, `f x f`: a size per axis. */
  | { readonly kind: 'dims'; readonly items: readonly Expr[]; readonly span: Span }
  /** `relu(y + x)`, `identity(3, 64, 64, 256)(x)`, `cross_entropy(aux1)`. */
  | { readonly kind: 'call'; readonly callee: Expr; readonly args: readonly Argument[]; readonly span: Span }
  /** `vgg.conv4_2`: a layer inside a block instance. */
  | { readonly kind: 'member'; readonly object: Expr; readonly name: string; readonly nameSpan: Span; readonly span: Span }
  /** `conv 6, 5x5, stride 2`: a layer with bare arguments, only as a chain stage. */
  | { readonly kind: 'layer'; readonly op: string; readonly opSpan: Span; readonly args: readonly Argument[]; readonly span: Span };

export interface Argument {
  /** Keyword name (`stride` in `stride 2`), absent for positional arguments. */
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly value: Expr;
  readonly span: Span;
}

export interface Stage {
  readonly expr: Expr;
  /** `as conv4_2`: the name given to the layer this stage creates. */
  readonly alias?: Identifier;
  readonly span: Span;
}

export interface Identifier {
  readonly name: string;
  readonly span: Span;
}

export type Statement =
  | { readonly kind: 'input'; readonly name: Identifier; readonly shape: Expr; readonly trainable: boolean; readonly doc?: string; readonly span: Span }
  | { readonly kind: 'output'; readonly values: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'loss'; readonly expr: Expr; readonly span: Span }
  | { readonly kind: 'return'; readonly stages: readonly Stage[]; readonly span: Span }
  | { readonly kind: 'freeze'; readonly targets: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'share'; readonly name: Identifier; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'repeat'; readonly count: Expr; readonly body: readonly Statement[]; readonly span: Span }
  | { readonly kind: 'for'; readonly variable: Identifier; readonly from: Expr; readonly to: Expr; readonly body: readonly Statement[]; readonly span: Span }
  | { readonly kind: 'chain'; readonly target?: Identifier; readonly stages: readonly Stage[]; readonly doc?: string; readonly span: Span };

export interface Parameter {
  readonly name: Identifier;
  readonly default?: Expr;
}

export interface ModelDecl {
  readonly kind: 'model';
  readonly name: Identifier;
  readonly params: readonly Parameter[];
  readonly body: readonly Statement[];
  readonly doc?: string;
  readonly span: Span;
}

export interface BlockDecl {
  readonly kind: 'block';
  readonly name: Identifier;
  readonly params: readonly Parameter[];
  readonly inputs: readonly Identifier[];
  readonly body: readonly Statement[];
  readonly doc?: string;
  readonly span: Span;
}

export interface ImportDecl {
  readonly kind: 'import';
  /** A relative path (`"./blocks.cnn"`) or a standard-library short name (`resnet`). */
  readonly target: string;
  readonly isStdlib: boolean;
  readonly span: Span;
}

export type Declaration = ModelDecl | BlockDecl | ImportDecl;

export interface SourceFile {
  readonly file: string;
  readonly text: string;
  readonly declarations: readonly Declaration[];
}
