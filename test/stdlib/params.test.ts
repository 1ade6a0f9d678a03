// Every standard-library model reproduces its reference implementation's parameter count:
// total, trainable and non-trainable (batchnorm running statistics counted the Keras way).
// References: test/stdlib/reference-params.json, written by scripts/reference_params.py from
// torchvision 0.14 and from torch rebuilds of the course's Keras models.

import { describe, expect, it } from 'vitest';
import { summarize } from '../../compiler/summary.ts';
import { figuresFor, loadReferences } from './figures.ts';

const references = loadReferences();

describe('standard library parameter counts match the references', () => {
  for (const [key, reference] of Object.entries(references)) {
    it(`${reference.model} (${reference.file}) vs ${reference.source}`, () => {
      const f = figuresFor(key, reference);
      expect(f.diagnostics.map((d) => `${d.span.startLine}:${d.span.startColumn} ${d.message}`)).toEqual([]);
      expect(f.ours).toEqual({ total: reference.total, trainable: reference.trainable, nonTrainable: reference.nonTrainable });
      // The summary (what `cnnc summary --json` prints) agrees with the direct count.
      const totals = summarize(f.graph).totals;
      expect({ total: totals.params, trainable: totals.trainable, nonTrainable: totals.nonTrainable }).toEqual(f.ours);
    });
  }

  it('running statistics are exactly the part PyTorch keeps out of parameters()', () => {
    for (const [key, reference] of Object.entries(references)) {
      if (key === 'style_transfer') continue; // frozen: its trainable count is 0 by design
      expect(reference.total - reference.torchParameters, key).toBe(reference.nonTrainable);
    }
  });

  it('the binary face-verification head weighs |f(xi) - f(xj)|: one weight per embedding value and a bias', () => {
    const f = figuresFor('facenet_binary', references.facenet_binary);
    const encoder = figuresFor('facenet_encoder', references.facenet_encoder);
    expect(f.ours.total - encoder.ours.total).toBe(128 + 1);
  });
});
