// Generated from the layer definitions (compiler/layers/) and the loss functions by
// `node bin/run-ts.js scripts/layer-reference.ts`; a test fails when it is out of date.

/** Keyword-argument names: `stride 2`, `pad same`. Only these may precede a value without a comma. */
export const KEYWORD_ARGS: ReadonlySet<string> = new Set([
  'after',
  'alpha',
  'anchors',
  'before',
  'bias',
  'classes',
  'dilation',
  'eps',
  'momentum',
  'output_padding',
  'pad',
  'rate',
  'round',
  'scale',
  'stride',
]);
