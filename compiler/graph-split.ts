// Cuts a typed layer graph in two at a layer, for transfer learning with a cached frozen trunk:
// the trunk (inputs up to the layer) runs once over the data, and the head (what follows) trains
// on the trunk's activations, fed through a new input named after the layer.

import { didYouMean } from '../grammar/diagnostics.ts';
import { ancestorsOf, type InputNode, type ModelGraph } from './graph.ts';
import { UserError } from '../grammar/user-error.ts';

export class GraphSplitError extends UserError {
  override readonly name = 'GraphSplitError';
}

export interface GraphSplit {
  /** The layer the graph was cut after: the trunk's only output and the head's only input. */
  readonly split: string;
  /** Inputs and the layers the split layer depends on; output = the split layer; no loss. */
  readonly trunk: ModelGraph;
  /** A new input named after the split layer (its shape), the layers after it, the original loss and outputs. */
  readonly head: ModelGraph;
}

/**
 * Splits `graph` after `layer`. Refuses (GraphSplitError naming the offending layer) when the cut is
 * not clean: a head layer, loss term or output reading anything from before the cut other than
 * the split layer (a skip connection across it), weights shared across it, a trained input, or a
 * split point that is an input or the last layer.
 */
export function splitAt(graph: ModelGraph, layer: string): GraphSplit {
  const index = graph.layers.findIndex((l) => l.name === layer);
  if (index < 0) {
    if (graph.inputs.some((i) => i.name === layer)) {
      throw new GraphSplitError(`cannot split model ${graph.name} at '${layer}': it is an input, not a layer; the trunk must hold at least one layer to freeze and cache`);
    }
    const guess = didYouMean(layer, graph.layers.map((l) => l.name));
    throw new GraphSplitError(`cannot split model ${graph.name} at '${layer}': no such layer${guess ? `; did you mean '${guess}'?` : ''}`);
  }
  const trained = graph.inputs.find((i) => i.trainable);
  if (trained) throw new GraphSplitError(`cannot split model ${graph.name}: its input '${trained.name}' is trained, so the trunk's activations change every step and cannot be cached`);
  const split = graph.layers[index];
  const before = new Set([...graph.inputs.map((i) => i.name), ...graph.layers.slice(0, index + 1).map((l) => l.name)]);
  const headLayers = graph.layers.slice(index + 1);
  if (headLayers.length === 0) throw new GraphSplitError(`cannot split model ${graph.name} at '${layer}': it is the last layer, so no head is left to train`);

  const acrossCut = (reader: string, read: string) =>
    new GraphSplitError(
      `cannot split model ${graph.name} at '${layer}': '${reader}' reads '${read}', from before the cut (a skip connection across it); ` +
        `split at a layer every later layer reaches only through it, e.g. the end of a residual block`,
    );
  for (const l of headLayers) {
    for (const i of l.inputs) if (i !== layer && before.has(i)) throw acrossCut(l.name, i);
    if (l.paramOwner !== l.name && before.has(l.paramOwner)) {
      throw new GraphSplitError(`cannot split model ${graph.name} at '${layer}': '${l.name}' shares the weights of '${l.paramOwner}', from before the cut`);
    }
  }
  for (const term of graph.loss) for (const a of term.args) if (a !== layer && before.has(a)) throw acrossCut(`loss ${term.fn}`, a);
  for (const o of graph.outputs) if (o !== layer && before.has(o)) throw acrossCut('the model outputs', o);

  const needed = ancestorsOf(graph, [layer]);
  // The trunk's one output is the cut layer, named as such: the model's output names are the head's.
  const { outputNames: _outputNames, ...unnamed } = graph;
  const trunk: ModelGraph = {
    ...unnamed,
    name: `${graph.name}.trunk`,
    inputs: graph.inputs.filter((i) => needed.has(i.name)),
    layers: graph.layers.slice(0, index + 1).filter((l) => needed.has(l.name)),
    outputs: [layer],
    loss: [],
  };
  const input: InputNode = { name: layer, shape: split.shape, trainable: false, span: split.span, ...(split.doc === undefined ? {} : { doc: split.doc }) };
  // The head keeps the model's name: checkpoints and reports speak of the model being trained.
  const head: ModelGraph = { ...graph, inputs: [input], layers: headLayers };
  return { split: layer, trunk, head };
}
