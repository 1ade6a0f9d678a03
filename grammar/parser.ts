// The .cnn grammar: syntax only. Meaning (what `conv` is, what `x` binds to) lives in the compiler's
// cst-to-ast and checker stages. Error recovery is on so an editor sees every error in a broken file.

import { CstParser, EMPTY_ALT, type IToken, type TokenType } from 'chevrotain';
import { KEYWORD_ARGS } from './keyword-args.ts';
import * as T from './tokens.ts';

/**
 * How many in-repetition recoveries may nest. Chevrotain resumes a repetition after an error by
 * calling it again from inside itself, so a file with thousands of broken lines in one loop would
 * overflow the stack; past this many, the rest of the loop is reported as one error instead.
 */
const MAX_NESTED_RECOVERIES = 200;

type RepetitionRecovery = (this: CnnParser, ...args: unknown[]) => void;

const startsExpression = new Set<TokenType>([T.NumberLiteral, T.Identifier, T.LParen, T.Minus, T.StringLiteral]);

export class CnnParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
    this.boundRepetitionRecovery();
  }

  private boundRepetitionRecovery(): void {
    const parser = this as unknown as { attemptInRepetitionRecovery: RepetitionRecovery };
    const recover = parser.attemptInRepetitionRecovery;
    let depth = 0;
    parser.attemptInRepetitionRecovery = function (this: CnnParser, ...args: unknown[]): void {
      if (depth >= MAX_NESTED_RECOVERIES) return;
      depth++;
      try {
        recover.apply(this, args);
      } finally {
        depth--;
      }
    };
  }

  private isByIdentifier(token: IToken): boolean {
    return token.tokenType === T.Cross || (token.tokenType === T.Identifier && token.image === 'x');
  }

  /**
   * `stride 2`: a known keyword-argument name directly followed by the start of a value. Any other
   * name directly followed by a name, number or string (`padding same`, `kernel 3`) is read as a
   * keyword too, so the checker can say which keyword was meant instead of the parser losing the line.
   */
  private atKeywordArgument(): boolean {
    const name = this.LA(1);
    if (name.tokenType !== T.Identifier) return false;
    const next = this.LA(2);
    if (KEYWORD_ARGS.has(name.image)) return startsExpression.has(next.tokenType);
    return next.tokenType === T.NumberLiteral || next.tokenType === T.StringLiteral || (next.tokenType === T.Identifier && next.image !== 'x');
  }

  /**
   * `conv 6, 5x5`: a layer name followed by bare arguments (not an operator or the line's end).
   * A `(` right after the name is a call, `relu(x)`; after a space it starts an argument,
   * `zero_pad (f - 1) / 2`.
   */
  private atBareLayerCall(): boolean {
    const name = this.LA(1);
    if (name.tokenType !== T.Identifier) return false;
    const next = this.LA(2);
    if (next.tokenType === T.NumberLiteral || next.tokenType === T.StringLiteral) return true;
    // `conv -8, 3x3`: a minus glued to a number after a space is a negative argument, not `conv - 8`.
    if (next.tokenType === T.Minus) {
      const after = this.LA(3);
      const spaced = next.startOffset > (name.endOffset ?? name.startOffset) + 1;
      return spaced && after.tokenType === T.NumberLiteral && after.startOffset === (next.endOffset ?? next.startOffset) + 1;
    }
    if (next.tokenType === T.LParen) return next.startOffset > (name.endOffset ?? name.startOffset) + 1;
    return next.tokenType === T.Identifier && next.image !== 'x';
  }

  public file = this.RULE('file', () => {
    this.MANY(() => this.OR([{ ALT: () => this.CONSUME(T.Newline) }, { ALT: () => this.SUBRULE(this.topDecl) }]));
  });

  public topDecl = this.RULE('topDecl', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
    ]);
  });

  public importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.OR([{ ALT: () => this.CONSUME(T.StringLiteral) }, { ALT: () => this.CONSUME(T.Identifier) }]);
  });

  public modelDecl = this.RULE('modelDecl', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.paramList));
    this.SUBRULE(this.body);
  });

  public blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.paramList);
    this.SUBRULE(this.inputList);
    this.SUBRULE(this.body);
  });

  public paramList = this.RULE('paramList', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
  });

  public param = this.RULE('param', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  public inputList = this.RULE('inputList', () => {
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
    this.CONSUME(T.RParen);
  });

  public body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.CONSUME(T.Newline));
    this.MANY2(() => {
      this.SUBRULE(this.statement);
      // What a broken statement could not use, up to the line's end (reported by the AST builder).
      this.OPTION(() => this.SUBRULE(this.stray));
      // A statement ends at a newline, or right before the closing brace.
      this.OR([
        { ALT: () => this.AT_LEAST_ONE(() => this.CONSUME2(T.Newline)) },
        { GATE: () => this.LA(1).tokenType === T.RBrace, ALT: EMPTY_ALT() },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  public stray = this.RULE('stray', () => {
    this.AT_LEAST_ONE(() => this.CONSUME(T.Stray));
  });

  public statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputStatement) },
      { ALT: () => this.SUBRULE(this.outputStatement) },
      { ALT: () => this.SUBRULE(this.lossStatement) },
      { ALT: () => this.SUBRULE(this.returnStatement) },
      { ALT: () => this.SUBRULE(this.freezeStatement) },
      { ALT: () => this.SUBRULE(this.shareStatement) },
      { ALT: () => this.SUBRULE(this.repeatStatement) },
      { ALT: () => this.SUBRULE(this.forStatement) },
      { ALT: () => this.SUBRULE(this.chainStatement) },
    ]);
  });

  public inputStatement = this.RULE('inputStatement', () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
    this.OPTION(() => this.CONSUME(T.Trainable));
  });

  public outputStatement = this.RULE('outputStatement', () => {
    this.CONSUME(T.Output);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
  });

  public lossStatement = this.RULE('lossStatement', () => {
    this.CONSUME(T.Loss);
    this.SUBRULE(this.expression);
  });

  public returnStatement = this.RULE('returnStatement', () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.chain);
  });

  public freezeStatement = this.RULE('freezeStatement', () => {
    this.CONSUME(T.Freeze);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
  });

  public shareStatement = this.RULE('shareStatement', () => {
    this.CONSUME(T.Share);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  public repeatStatement = this.RULE('repeatStatement', () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.body);
  });

  public forStatement = this.RULE('forStatement', () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.expression);
    this.CONSUME(T.DotDot);
    this.SUBRULE1(this.expression);
    this.SUBRULE(this.body);
  });

  public chainStatement = this.RULE('chainStatement', () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.chain);
  });

  public chain = this.RULE('chain', () => {
    this.SUBRULE(this.stage);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE1(this.stage);
    });
  });

  public stage = this.RULE('stage', () => {
    this.OR([
      { GATE: () => this.atBareLayerCall(), ALT: () => this.SUBRULE(this.layerCall) },
      { ALT: () => this.SUBRULE(this.expression) },
    ]);
    this.OPTION(() => {
      this.CONSUME(T.As);
      this.CONSUME(T.Identifier);
    });
  });

  public layerCall = this.RULE('layerCall', () => {
    this.CONSUME(T.Identifier);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
  });

  public argument = this.RULE('argument', () => {
    this.OPTION({ GATE: () => this.atKeywordArgument(), DEF: () => this.CONSUME(T.Identifier) });
    this.SUBRULE(this.expression);
  });

  /**
   * A flat run of operands and binary operators; precedence (`x` below `+ -` below `* / %`) is
   * applied when the AST is built. Keeping the CST shallow keeps parsing fast on large models.
   */
  public expression = this.RULE('expression', () => {
    this.SUBRULE(this.operand);
    this.MANY(() => {
      this.OR([
        { GATE: () => this.isByIdentifier(this.LA(1)) && startsExpression.has(this.LA(2).tokenType), ALT: () => this.CONSUME(T.Identifier) },
        { ALT: () => this.CONSUME(T.Cross) },
        { ALT: () => this.CONSUME(T.Plus) },
        { ALT: () => this.CONSUME(T.Minus) },
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE1(this.operand);
    });
  });

  /** `-x`, `f(a)(b)`, `vgg.conv4_2`, `(a + b)`, `3`. */
  public operand = this.RULE('operand', () => {
    this.MANY(() => this.CONSUME(T.Minus));
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
    ]);
    this.MANY2(() => {
      this.OR2([
        { ALT: () => this.SUBRULE(this.callArgs) },
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            this.CONSUME1(T.Identifier);
          },
        },
      ]);
    });
  });

  public callArgs = this.RULE('callArgs', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

}

/** One parser instance is reused: chevrotain parsers are built once and fed new input. */
export const cnnParser = new CnnParser();
