// The style-transfer program: computing the fixed pictures' features once and feeding them to the
// per-step program gives exactly the unsplit program's J, parts and gradient; J's parts add up to
// J with the model's weights; --alpha and --beta reweight the groups.

import { describe, expect, it } from 'vitest';
import { hoistInvariants } from '../../compiler/ir/hoist.ts';
import { leavesOf } from '../../compiler/ir/program.ts';
import { buildInputObjective, gradOutput, groupOutput, OBJECTIVE_LOSS, reweightLoss } from '../../compiler/lower/input-objective.ts';
import { initialWeights } from '../../runtime/init.ts';
import { evaluate } from '../../runtime/reference/executor.ts';
import { CONTENT, STYLE, styleGraph } from './pictures.ts';

const graph = styleGraph();
const weights = initialWeights(graph, 1);
const feeds = new Map([
  ['content_image', CONTENT.data],
  ['style_image', STYLE.data],
  ['generated', CONTENT.data.map((v, i) => 0.7 * v + 0.3 * STYLE.data[i]!)],
]);

function outputsOf(g = graph): Map<string, Float32Array> {
  const { program } = buildInputObjective(g);
  const values = evaluate(program, feeds, weights);
  return new Map([...program.outputs].map(([name, id]) => [name, values[id]!]));
}

describe('the input objective', () => {
  it('gives the same J, parts and gradient when the fixed features are computed once', () => {
    const objective = buildInputObjective(graph);
    const whole = outputsOf();
    const { once, each } = hoistInvariants(objective.program, new Set(['generated']));
    expect(leavesOf(once, 'feed').map((l) => l.name).sort()).toEqual(['content_image', 'style_image']);
    // The per-step program reads only the generated image and the hoisted values.
    expect(leavesOf(each, 'feed').every((l) => l.name === 'generated' || l.name.startsWith('hoisted:'))).toBe(true);
    const onceValues = evaluate(once, feeds, weights);
    const hoisted = new Map([...once.outputs].map(([name, id]) => [name, onceValues[id]!]));
    const eachValues = evaluate(each, new Map([...hoisted, ['generated', feeds.get('generated')!]]), weights);
    for (const [name, id] of each.outputs) expect(eachValues[id], name).toEqual(whole.get(name));
    expect(each.nodes.length).toBeLessThan(objective.program.nodes.length);
  });

  it('splits J into J_content and J_style with the weights alpha = 10, beta = 40', () => {
    const out = outputsOf();
    const [j, content, style] = [OBJECTIVE_LOSS, groupOutput('content'), groupOutput('style')].map((n) => out.get(n)![0]!);
    expect(j).toBeCloseTo(10 * content! + 40 * style!, 5);
    expect(out.get(gradOutput('generated'))!.some((v) => v !== 0)).toBe(true);
    const reweighted = outputsOf(reweightLoss(graph, { content: 1, style: 2 }));
    expect(reweighted.get(OBJECTIVE_LOSS)![0]).toBeCloseTo(content! + 2 * style!, 5);
    expect(() => reweightLoss({ ...graph, loss: graph.loss.filter((t) => t.fn !== 'style') }, { style: 1 })).toThrow(/no style loss term/);
  });
});
