// Every stdlib file checks with zero diagnostics, is tidy (2-space indent, no tabs, no trailing
// spaces), documents every model, and every model is listed in docs/stdlib.md with the figures
// it computes today.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFile, rootModels } from '../../compiler/program.ts';
import { currentSummary, docRow, figuresFor, loadReferences, QUOTED_SUMMARY, REPO } from './figures.ts';

const files = readdirSync(`${REPO}/stdlib`)
  .filter((f) => f.endsWith('.cnn'))
  .sort();
const references = loadReferences();

describe('stdlib files', () => {
  it('cover the issue: at least the twelve model families', () => {
    for (const name of ['lenet5', 'alexnet', 'vgg', 'resnet', 'inception', 'yolo', 'localization', 'sliding_windows', 'facenet', 'style_transfer', 'signals', 'volumes']) {
      expect(files).toContain(`${name}.cnn`);
    }
  });

  for (const file of files) {
    describe(file, () => {
      const path = `${REPO}/stdlib/${file}`;
      const text = readFileSync(path, 'utf8');

      it('checks with zero diagnostics', () => {
        const result = checkFile(path);
        expect(result.diagnostics.map((d) => `${d.span.startLine}:${d.span.startColumn} ${d.severity}: ${d.message}`)).toEqual([]);
        expect(result.graphs.length).toBeGreaterThan(0);
      });

      it('is tidy: 2-space indent, no tabs, no trailing spaces, ends in a newline', () => {
        const lines = text.split('\n');
        expect(text.endsWith('\n')).toBe(true);
        lines.forEach((line, i) => {
          const where = `${file}:${i + 1}`;
          expect(line.includes('\t'), where).toBe(false);
          expect(line, where).toBe(line.trimEnd());
          const indent = line.length - line.trimStart().length;
          expect(indent % 2, where).toBe(0);
        });
      });

      it('documents every model and block, and has a reference for every model', () => {
        const program = checkFile(path).program;
        for (const model of rootModels(program)) {
          expect(model.doc, `model ${model.name.name}`).toBeTruthy();
          const keys = Object.values(references).filter((r) => r.file === `stdlib/${file}` && r.model === model.name.name);
          expect(keys.length, `${model.name.name} has a reference in reference-params.json`).toBe(1);
        }
        for (const decl of program.files.get(program.root)?.source.declarations ?? []) {
          if (decl.kind === 'block') expect(decl.doc, `block ${decl.name.name}`).toBeTruthy();
        }
      });
    });
  }
});

describe('docs/stdlib.md', () => {
  const doc = readFileSync(`${REPO}/docs/stdlib.md`, 'utf8');
  it('lists every model with the figures it computes (refresh: node bin/run-ts.js test/stdlib/figures.ts --write-docs)', () => {
    for (const [key, reference] of Object.entries(references)) {
      expect(doc, key).toContain(docRow(figuresFor(key, reference)));
    }
  });
});

describe('summaries quoted in docs/stdlib.md', () => {
  const doc = readFileSync(`${REPO}/docs/stdlib.md`, 'utf8');
  const quoted = [...doc.matchAll(QUOTED_SUMMARY)];
  it('quotes at least three', () => expect(quoted.length).toBeGreaterThanOrEqual(3));
  for (const [, block, model, file] of quoted) {
    it(`${model} is what cnnc summary prints today`, () => {
      expect(currentSummary(model, file)).toBe(block);
    });
  }
});
