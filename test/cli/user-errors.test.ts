// Every user-facing error extends UserError, and its kind keeps the command line's exit codes:
// 1 for data that does not fit the model, 2 for any other bad input. A new error class in the
// product must either extend UserError or be named here as a bug-only error, with its reason.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/io.ts';
import { NoBrowserError } from '../../cli/svg-to-png.ts';
import { BundleBuildError } from '../../compiler/emit-ts/bundle-spec.ts';
import { OnnxExportError } from '../../compiler/export/onnx/export.ts';
import { PytorchExportError } from '../../compiler/export/pytorch/model-py.ts';
import { GraphSplitError } from '../../compiler/graph-split.ts';
import { LOSSES } from '../../compiler/checker/loss.ts';
import { buildInputObjective } from '../../compiler/lower/input-objective.ts';
import { LOSS_LOWERING } from '../../compiler/lower/losses.ts';
import { lowerModel } from '../../compiler/lower/lower.ts';
import { buildGradProgram } from '../../compiler/lower/programs.ts';
import { buildTrainStep } from '../../compiler/optim/train-step.ts';
import { ProgramRequestError } from '../../compiler/program-request-error.ts';
import { compileModel } from '../../compiler/program.ts';
import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';
import { CheckpointError } from '../../runtime/checkpoint.ts';
import { DataError } from '../../runtime/data/dataset.ts';
import { IdxError } from '../../runtime/data/idx.ts';
import { RngStateError } from '../../runtime/data/random.ts';
import { DataSpecError } from '../../runtime/data/spec.ts';
import { AnnotationError } from '../../runtime/detect/annotations.ts';
import { FaceError } from '../../runtime/faces/verification.ts';
import { MemoryBudgetError } from '../../runtime/memory-budget.ts';
import { SafetensorsError } from '../../runtime/safetensors.ts';
import { NonFiniteLossError } from '../../runtime/stylize/optimize.ts';
import { FeedError, FeedOptionError } from '../../runtime/train/bind-feeds.ts';
import { SessionError } from '../../runtime/train/create-session.ts';
import { NoWebGpuError } from '../../runtime/webgpu/device.ts';
import { DeviceLimitError } from '../../runtime/webgpu/program.ts';
import { KerasH5Error } from '../../runtime/weights/keras-h5.ts';
import { NameMapError } from '../../runtime/weights/name-map.ts';

const REPO = resolve(import.meta.dirname, '../..');
const PRODUCT = ['grammar', 'compiler', 'runtime', 'lsp', 'playground', 'cli', 'plugins'];

/** Errors that only a bug in cnnc raises, so a front end shows them with their stack. */
const BUG_ONLY: Readonly<Record<string, string>> = {
  IrError: 'an IR invariant broken by a lowering or pass',
  ExecutionError: 'a program run without the tensors it was compiled for',
  WgslCompileError: 'generated WGSL the device rejects',
  GpuRunError: 'a WebGPU program bound to tensors it was not planned for',
  CheckCancelled: 'not an error: a check stopped by a newer edit, caught by the language server',
};

type ErrorClass = new (...args: string[]) => UserError;

/** The exit code each error gave before UserError existed, when the command line matched class names. */
const EXIT_CODES: readonly (readonly [ErrorClass, 1 | 2])[] = [
  [DataError, 1],
  [FeedError, 1],
  [NameMapError, 1],
  [KerasH5Error, 1],
  [FaceError, 1],
  [AnnotationError, 1],
  [UsageError, 2],
  [FeedOptionError, 2],
  [IdxError, 2],
  [SafetensorsError, 2],
  [CheckpointError, 2],
  [SessionError, 2],
  [NoWebGpuError, 2],
  [DeviceLimitError, 2],
  [RngStateError, 2],
  [BundleBuildError, 2],
  [GraphSplitError, 2],
  [DataSpecError, 2],
  [NoBrowserError, 2],
  [NonFiniteLossError, 2],
  [OnnxExportError, 2],
  [PytorchExportError, 2],
  [MemoryBudgetError, 2],
  [ProgramRequestError, 2],
];

const EXIT_OF_KIND: Readonly<Record<UserErrorKind, 1 | 2>> = { data: 1, usage: 2 };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every class in the product with the name of the class it extends, by name. */
function classBases(): Map<string, { base: string; file: string }> {
  const bases = new Map<string, { base: string; file: string }>();
  for (const file of PRODUCT.flatMap((folder) => sourceFiles(join(REPO, folder)))) {
    const text = readFileSync(file, 'utf8');
    // Parsing is the slow part: most files declare no subclass at all.
    if (!/\bclass\s+\w+[^{]*\bextends\b/.test(text)) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name) {
        const extended = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
        if (extended && ts.isIdentifier(extended)) bases.set(node.name.text, { base: extended.text, file: relative(REPO, file) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return bases;
}

/** `name` and the classes it extends, nearest first, as far as the product declares them. */
function ancestry(name: string, bases: ReadonlyMap<string, { base: string }>): string[] {
  const chain = [name];
  for (let base = bases.get(name)?.base; base !== undefined && !chain.includes(base); base = bases.get(base)?.base) chain.push(base);
  return chain;
}

describe('user errors', () => {
  it('every error class in the product extends UserError or is named as bug-only', () => {
    const bases = classBases();
    const unplaced = [...bases]
      .filter(([name]) => name !== 'UserError' && !(name in BUG_ONLY))
      .filter(([name]) => {
        const chain = ancestry(name, bases);
        return chain.includes('Error') && !chain.includes('UserError');
      })
      .map(([name, { file }]) => `${file}: ${name}`);
    expect(unplaced).toEqual([]);
    // The walk found what it should: every error with an exit code below, and the bug-only ones.
    for (const [cls] of EXIT_CODES) expect(ancestry(cls.name, bases), cls.name).toContain('UserError');
    for (const name of Object.keys(BUG_ONLY)) expect(bases.get(name)?.base, name).toBe('Error');
  });

  it.each(EXIT_CODES.map(([cls, code]) => [cls.name, code, cls] as const))('%s keeps exit code %i', (_, code, cls) => {
    const e = new cls('x', 'y');
    expect(e).toBeInstanceOf(UserError);
    expect(EXIT_OF_KIND[e.kind]).toBe(code);
  });

  it('what a user asks the compiler for and a model cannot give is a ProgramRequestError, not an IrError', () => {
    const graphOf = (body: string) => compileModel({ file: 'm.cnn', text: `model M {\n  input x: 4\n${body}\n}\n` }).graph!;
    const trained = graphOf('  dense 2 -> softmax\n  loss cross_entropy');
    const untrained = graphOf('  dense 2');
    const refusals: readonly (readonly [() => unknown, RegExp])[] = [
      [() => buildGradProgram(untrained, 2), /^model M declares no loss$/],
      [() => lowerModel(trained, { batch: 0, mode: 'train' }), /^batch size must be a positive integer, got 0$/],
      [() => buildTrainStep(trained, 2, { kind: 'sgd', lr: 0 }), /^learning rate must be positive, got 0$/],
      [() => buildInputObjective(trained), /^model M needs exactly one trainable input to optimise/],
    ];
    for (const [ask, message] of refusals) {
      let thrown: unknown;
      try {
        ask();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ProgramRequestError);
      expect((thrown as Error).message).toMatch(message);
    }
     // Every loss the checker accepts lowers, so lowering's "not supported by the IR" stays a bug (an IrError).
    expect(Object.keys(LOSSES).filter((fn) => !(fn in LOSS_LOWERING))).toEqual([]);
  });
});
