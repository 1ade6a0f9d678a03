// Per-element kernel bodies: for output flat index `i` (coordinates o0, o1, ...), WGSL lines that
// define `v0`, the op's value there. Shapes and attributes are folded in as constants. Ops that
// reduce (reduce, softmax, pooling, batch statistics) loop over what one output element needs.

import { sizeOf } from '../../ir/ops.ts';
import { channelInputs, type ElementwiseAttrs } from '../../ir/traits.ts';
import type { KernelAttrs, TiledAttrs } from '../../passes/kernel-ops.ts';
import { elementwiseExpr } from './elementwise.ts';
import { f32Lit, flatten, stridesOf, unflatten } from './kernel.ts';

export interface FlatInput {
  readonly name: string;
  readonly shape: readonly number[];
  /** A compile-time constant inlined instead of a binding (consts feeding elementwise ops). */
  readonly literal?: string | undefined;
}

export interface FlatBody {
  readonly helpers: string;
  /** Defines `v0`, the value at output `i`; with `invocations`, calls `store` itself instead. */
  readonly body: string;
  /** Invocations when they are not one per output element (each then stores several). */
  readonly invocations?: number;
}

const u = (n: number): string => `${n}u`;

/** WGSL for the channel (axis 1) of flat index `idx` in `shape`. */
export function channelOf(idx: string, shape: readonly number[]): string {
  if (shape.length < 2) return idx;
  return `((${idx} / ${u(stridesOf(shape)[1]!)}) % ${u(shape[1]!)})`;
}

/** Loops over the flat offsets of all (n, spatial) positions of channel `c` in an [N, C, ...] tensor. */
function perChannelLoop(shape: readonly number[], c: string, bodyOf: (at: string) => string): string {
  const n = shape[0]!;
  const ch = shape[1]!;
  const inner = sizeOf(shape.slice(2));
  return `  for (var n = 0u; n < ${u(n)}; n++) {
    for (var s = 0u; s < ${u(inner)}; s++) {
      let at = (n * ${u(ch)} + ${c}) * ${u(inner)} + s;
${bodyOf('at')}
    }
  }`;
}

function countPerChannel(shape: readonly number[]): number {
  return sizeOf(shape) / shape[1]!;
}

/** Lines computing mean `mu` and biased variance `va` of channel `c` of tensor `x`. */
function meanVar(x: FlatInput, c: string): string {
  const m = f32Lit(countPerChannel(x.shape));
  return `  var sum = 0.0;
${perChannelLoop(x.shape, c, (at) => `      sum += ${x.name}[${at}];`)}
  let mu = sum / ${m};
  var sq = 0.0;
${perChannelLoop(x.shape, c, (at) => `      let d = ${x.name}[${at}] - mu;\n      sq += d * d;`)}
  let va = sq / ${m};`;
}

const PCG = `fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}`;

/** The argument expression of input j of an elementwise op at flat index `idx` of `shape`. */
function elementwiseArg(attrs: ElementwiseAttrs, j: number, input: FlatInput, idx: string, outShape: readonly number[]): string {
  if (input.literal !== undefined) return input.literal;
  if (input.shape.length === 0) return `${input.name}[0]`;
  if (channelInputs(attrs.op).includes(j)) return `${input.name}[${channelOf(idx, outShape)}]`;
  return `${input.name}[${idx}]`;
}

/** Kernel ops whose kernel is a tiled GEMM (tiled.ts), not one invocation per element. */
type TiledOp = TiledAttrs['op'];

/** The body for one output element of `attrs` with output `shape` and the given inputs. */
export function flatBody(attrs: Exclude<KernelAttrs, { readonly op: TiledOp }>, shape: readonly number[], ins: readonly FlatInput[]): FlatBody {
  const coords = unflatten('i', shape, 'o');
  const none = '';
  const x = ins[0]!;
  switch (attrs.op) {
    case 'unary':
    case 'unary_grad':
    case 'binary':
    case 'affine':
    case 'axpby':
    case 'bias_add':
    case 'batchnorm':
    case 'sgd_apply':
    case 'rmsprop_apply':
    case 'adam_apply': {
      const args = ins.map((inp, j) => elementwiseArg(attrs, j, inp, 'i', shape));
      return { helpers: none, body: `  let v0 = ${elementwiseExpr(attrs, args)};` };
    }
    case 'const':
      return { helpers: none, body: `  let v0 = ${f32Lit(attrs.value)};` };
    case 'expand': {
      const kept = shape.map((_, a) => `o${a}`).filter((_, a) => !attrs.axes.includes(a));
      return { helpers: none, body: `${coords}\n  let v0 = ${x.name}[${flatten(kept, x.shape)}];` };
    }
    case 'reduce': {
      const red = attrs.axes;
      const kept = x.shape.map((_, a) => a).filter((a) => !red.includes(a));
      const xc = x.shape.map((_, a) => (red.includes(a) ? `r${a}` : `o${kept.indexOf(a)}`));
      const open = red.map((a) => `  for (var r${a} = 0u; r${a} < ${u(x.shape[a]!)}; r${a}++) {`).join('\n');
      const close = red.map(() => '  }').join('\n');
      const count = f32Lit(sizeOf(red.map((a) => x.shape[a]!)));
      const at = flatten(xc, x.shape);
      const sumLoop = (stmt: string): string => `${open}\n    ${stmt}\n${close}`;
      let body = `${coords}\n  var acc = 0.0;\n${sumLoop(`acc += ${x.name}[${at}];`)}\n`;
      if (attrs.fn === 'sum') body += '  let v0 = acc;';
      else if (attrs.fn === 'mean') body += `  let v0 = acc / ${count};`;
      else body += `  let mu = acc / ${count};\n  var sq = 0.0;\n${sumLoop(`let d = ${x.name}[${at}] - mu; sq += d * d;`)}\n  let v0 = sq / ${count};`;
      return { helpers: none, body };
    }
    case 'sum_splits': {
      const size = sizeOf(shape);
      return { helpers: none, body: `  var acc = 0.0;\n  for (var s = 0u; s < ${u(attrs.splits)}; s++) { acc += ${x.name}[s * ${u(size)} + i]; }\n  let v0 = acc;` };
    }
    case 'col2im':
      return { helpers: none, body: `${coords}\n${col2im(attrs, x, shape)}` };
    case 'pool':
      return { helpers: none, body: `${coords}\n${poolWindow(attrs, x, shape, 'o', 'v0')}` };
    case 'pool_grad': {
      const [dy, xin] = [ins[0]!, ins[1]!];
      if (windowsTile(attrs, xin.shape, dy.shape)) {
        return { helpers: none, body: `${unflatten('i', dy.shape, 'o')}\n${poolGradByWindow(attrs, dy, xin)}`, invocations: sizeOf(dy.shape) };
      }
      return { helpers: none, body: `${coords}\n${poolGrad(attrs, dy, xin)}` };
    }
    case 'softmax':
    case 'softmax_grad':
    case 'l2_normalize':
    case 'l2_normalize_grad':
      return { helpers: none, body: `${coords}\n${alongAxis(attrs, shape, ins)}` };
    case 'softmax_cross_entropy': {
      const [logits, target] = [ins[0]!, ins[1]!];
      const c = logits.shape[1]!;
      return {
        helpers: none,
        body: `  let base = i * ${u(c)};
  var mx = ${logits.name}[base];
  for (var k = 1u; k < ${u(c)}; k++) { mx = max(mx, ${logits.name}[base + k]); }
  var se = 0.0;
  for (var k = 0u; k < ${u(c)}; k++) { se += exp(${logits.name}[base + k] - mx); }
  let lse = log(se) + mx;
  var acc = 0.0;
  for (var k = 0u; k < ${u(c)}; k++) { acc -= ${target.name}[base + k] * (${logits.name}[base + k] - lse); }
  let v0 = acc;`,
      };
    }
    case 'softmax_cross_entropy_grad': {
      const [dl, logits, target] = [ins[0]!, ins[1]!, ins[2]!];
      const c = logits.shape[1]!;
      return {
        helpers: none,
        body: `  let row = i / ${u(c)};
  let base = row * ${u(c)};
  var mx = ${logits.name}[base];
  for (var k = 1u; k < ${u(c)}; k++) { mx = max(mx, ${logits.name}[base + k]); }
  var se = 0.0;
  for (var k = 0u; k < ${u(c)}; k++) { se += exp(${logits.name}[base + k] - mx); }
  let v0 = ${dl.name}[row] * (exp(${logits.name}[i] - mx) / se - ${target.name}[i]);`,
      };
    }
    case 'one_hot':
      return { helpers: none, body: `${coords}\n  let v0 = select(0.0, 1.0, ${x.name}[o0] == f32(o1));` };
    case 'concat': {
      let start = 0;
      const lines = [`${coords}`, '  var v = 0.0;'];
      ins.forEach((inp, j) => {
        const len = inp.shape[attrs.axis]!;
        const cs = shape.map((_, a) => (a === attrs.axis ? `(o${a} - ${u(start)})` : `o${a}`));
        const cond = j === 0 ? `if (o${attrs.axis} < ${u(start + len)})` : j === ins.length - 1 ? 'else' : `else if (o${attrs.axis} < ${u(start + len)})`;
        lines.push(`  ${cond} { v = ${inp.name}[${flatten(cs, inp.shape)}]; }`);
        start += len;
      });
      lines.push('  let v0 = v;');
      return { helpers: none, body: lines.join('\n') };
    }
    case 'slice': {
      const cs = shape.map((_, a) => `o${a} + ${u(attrs.starts[a]!)}`);
      return { helpers: none, body: `${coords}\n  let v0 = ${x.name}[${flatten(cs, x.shape)}];` };
    }
    case 'pad': {
      const lines = [coords, '  var inside = true;'];
      const cs = shape.map((_, a) => {
        if (a < 2) return `o${a}`;
        const b = attrs.before[a - 2]!;
        lines.push(`  let q${a} = i32(o${a}) - ${b};`, `  inside = inside & (u32(q${a}) < ${x.shape[a]!}u);`);
        return `u32(q${a})`;
      });
      lines.push(`  var v0 = 0.0;\n  if (inside) { v0 = ${x.name}[${flatten(cs, x.shape)}]; }`);
      return { helpers: none, body: lines.join('\n') };
    }
    case 'space_to_depth': {
      // y[n, (dy * b + dx) * C + c, h, w] = x[n, c, h * b + dy, w * b + dx]
      const b = attrs.block;
      const c = x.shape[1]!;
      return {
        helpers: none,
        body: `${coords}\n  let c = o1 % ${u(c)};\n  let q = o1 / ${u(c)};\n  let ddy = q / ${u(b)};\n  let ddx = q % ${u(b)};\n` +
          `  let v0 = ${x.name}[${flatten(['o0', 'c', `o2 * ${u(b)} + ddy`, `o3 * ${u(b)} + ddx`], x.shape)}];`,
      };
    }
    case 'depth_to_space': {
      // inverse: out[n, c, h, w] = y[n, ((h % b) * b + (w % b)) * C + c, h / b, w / b]
      const b = attrs.block;
      const c = shape[1]!;
      return {
        helpers: none,
        body: `${coords}\n  let q = (o2 % ${u(b)}) * ${u(b)} + (o3 % ${u(b)});\n` +
          `  let v0 = ${x.name}[${flatten(['o0', `q * ${u(c)} + o1`, `o2 / ${u(b)}`, `o3 / ${u(b)}`], x.shape)}];`,
      };
    }
    case 'upsample': {
      const cs = shape.map((_, a) => (a < 2 ? `o${a}` : `o${a} / ${u(attrs.scale[a - 2]!)}`));
      return { helpers: none, body: `${coords}\n  let v0 = ${x.name}[${flatten(cs, x.shape)}];` };
    }
    case 'upsample_grad': {
      const sc = attrs.scale;
      const open = sc.map((s, a) => `  for (var k${a + 2} = 0u; k${a + 2} < ${u(s)}; k${a + 2}++) {`).join('\n');
      const close = sc.map(() => '  }').join('\n');
      const cs = x.shape.map((_, a) => (a < 2 ? `o${a}` : `o${a} * ${u(sc[a - 2]!)} + k${a}`));
      return { helpers: none, body: `${coords}\n  var acc = 0.0;\n${open}\n    acc += ${x.name}[${flatten(cs, x.shape)}];\n${close}\n  let v0 = acc;` };
    }
    case 'dropout_mask': {
      const keep = f32Lit(1 / (1 - attrs.rate));
      return {
        helpers: PCG,
        body: `  let h = pcg(i + pcg(u32(${x.name}[0]) + pcg(${u(attrs.salt >>> 0)})));
  let r = f32(h >> 8u) / 16777216.0;
  let v0 = select(0.0, ${keep}, r >= ${f32Lit(attrs.rate)});`,
      };
    }
    case 'lr_schedule': {
      const base = f32Lit(attrs.base);
      let expr = base;
      if (attrs.kind === 'step') expr = `${base} * pow(${f32Lit(attrs.gamma)}, floor(${x.name}[0] / ${f32Lit(attrs.stepSize)}))`;
      if (attrs.kind === 'cosine') {
        const t = f32Lit(attrs.totalSteps);
        expr = `${f32Lit(attrs.minLr)} + (${base} - ${f32Lit(attrs.minLr)}) * (1.0 + cos(3.14159265358979 * min(${x.name}[0], ${t}) / ${t})) * 0.5`;
      }
      return { helpers: none, body: `  let v0 = ${expr};` };
    }
    case 'batchnorm_train_grad_gamma': {
      const [dy, xin] = [ins[0]!, ins[1]!];
      return {
        helpers: none,
        body: `  let c = i;\n${meanVar(xin, 'c')}\n  let rs = inverseSqrt(va + ${f32Lit(attrs.eps)});\n  var acc = 0.0;\n` +
          `${perChannelLoop(xin.shape, 'c', (at) => `      acc += ${dy.name}[${at}] * (${xin.name}[${at}] - mu) * rs;`)}\n  let v0 = acc;`,
      };
    }
    case 'bn_stats': {
      const c = x.shape[1]!;
      return { helpers: none, body: `  let c = i % ${u(c)};\n${meanVar(x, 'c')}\n  let v0 = select(mu, va, i >= ${u(c)});` };
    }
    case 'bn_grad_stats': {
      const [dy, xin] = [ins[0]!, ins[1]!];
      const c = xin.shape[1]!;
      const m = f32Lit(countPerChannel(xin.shape));
      return {
        helpers: none,
        body: `  let c = i % ${u(c)};\n  let which = i / ${u(c)};\n${meanVar(xin, 'c')}\n  let rs = inverseSqrt(va + ${f32Lit(attrs.eps)});
  var sdy = 0.0;\n  var sdyx = 0.0;
${perChannelLoop(xin.shape, 'c', (at) => `      let g = ${dy.name}[${at}];\n      sdy += g;\n      sdyx += g * (${xin.name}[${at}] - mu) * rs;`)}
  var v = mu;
  if (which == 1u) { v = va; } else if (which == 2u) { v = sdy / ${m}; } else if (which == 3u) { v = sdyx / ${m}; }
  let v0 = v;`,
      };
    }
    case 'bn_apply': {
      const [xx, g, b, st] = ins;
      const c = shape[1]!;
      const ch = channelOf('i', shape);
      return {
        helpers: none,
        body: `  let c = ${ch};\n  let v0 = (${xx!.name}[i] - ${st!.name}[c]) * inverseSqrt(${st!.name}[c + ${u(c)}] + ${f32Lit(attrs.eps)}) * ${g!.name}[c] + ${b!.name}[c];`,
      };
    }
    case 'bn_grad_x_apply': {
      const [dy, xx, g, st] = ins;
      const c = shape[1]!;
      return {
        helpers: none,
        body: `  let c = ${channelOf('i', shape)};
  let rs = inverseSqrt(${st!.name}[c + ${u(c)}] + ${f32Lit(attrs.eps)});
  let xhat = (${xx!.name}[i] - ${st!.name}[c]) * rs;
  let v0 = ${g!.name}[c] * rs * (${dy!.name}[i] - ${st!.name}[c + ${u(2 * c)}] - xhat * ${st!.name}[c + ${u(3 * c)}]);`,
      };
    }
  }
}

/** softmax / softmax_grad / l2_normalize / l2_normalize_grad along one axis. */
function alongAxis(attrs: Extract<KernelAttrs, { readonly op: 'softmax' | 'softmax_grad' | 'l2_normalize' | 'l2_normalize_grad' }>, shape: readonly number[], ins: readonly FlatInput[]): string {
  const axis = attrs.axis;
  const len = shape[axis]!;
  const st = stridesOf(shape)[axis]!;
  const lines = [`  let base = i - o${axis} * ${u(st)};`];
  const at = (k: string): string => `base + ${k} * ${u(st)}`;
  const loop = (stmt: string): string => `  for (var k = 0u; k < ${u(len)}; k++) { ${stmt} }`;
  const a = ins[0]!.name;
  switch (attrs.op) {
    case 'softmax':
      lines.push(`  var mx = ${a}[base];`, loop(`mx = max(mx, ${a}[${at('k')}]);`), '  var se = 0.0;', loop(`se += exp(${a}[${at('k')}] - mx);`), `  let v0 = exp(${a}[i] - mx) / se;`);
      break;
    case 'softmax_grad': {
      const y = ins[1]!.name;
      lines.push('  var s = 0.0;', loop(`s += ${a}[${at('k')}] * ${y}[${at('k')}];`), `  let v0 = ${y}[i] * (${a}[i] - s);`);
      break;
    }
    case 'l2_normalize': {
      lines.push('  var ss = 0.0;', loop(`ss += ${a}[${at('k')}] * ${a}[${at('k')}];`), `  let v0 = ${a}[i] / max(sqrt(ss), ${f32Lit(attrs.eps)});`);
      break;
    }
    case 'l2_normalize_grad': {
      const x = ins[1]!.name;
      lines.push(
        '  var ss = 0.0;',
        loop(`ss += ${x}[${at('k')}] * ${x}[${at('k')}];`),
        '  let nrm = sqrt(ss);',
        '  var dot = 0.0;',
        loop(`dot += ${a}[${at('k')}] * ${x}[${at('k')}] / nrm;`),
        `  let v0 = select(${a}[i] / ${f32Lit(attrs.eps)}, (${a}[i] - ${x}[i] / nrm * dot) / nrm, nrm > ${f32Lit(attrs.eps)});`,
      );
      break;
    }
  }
  return lines.join('\n');
}

/**
 * The input gradient at x coordinates o0.. from the column matrix W^T dy: the sum over kernel taps
 * k whose output position p (p * stride + k * dilation - padBefore = o) lies in dy. Each axis's
 * tap range is computed, so only taps that land are visited.
 */
function col2im(a: Extract<KernelAttrs, { op: 'col2im' }>, cols: FlatInput, xShape: readonly number[]): string {
  const axes = Array.from({ length: a.rank }, (_, j) => j);
  const [n, osz, ksz] = [xShape[0]!, sizeOf(a.outSpatial), sizeOf(a.kernel)];
  const lines = ['  var acc = 0.0;'];
  for (const j of axes) {
    const [k, s, d, od] = [a.kernel[j]!, a.stride[j]!, a.dilation[j]!, a.outSpatial[j]!];
    // t - k * d = p * s with 0 <= p < od: k >= ceil((t - (od - 1) * s) / d), k <= t / d.
    lines.push(`  let t${j} = i32(o${j + 2}) + ${a.padBefore[j]};`);
    lines.push(`  let lo${j} = max(0, (t${j} - ${(od - 1) * s - d + 1}) / ${d});`);
    lines.push(`  let hi${j} = min(${k - 1}, t${j} / ${d});`);
  }
  for (const j of axes) {
    const [s, d] = [a.stride[j]!, a.dilation[j]!];
    lines.push(`  for (var k${j} = lo${j}; k${j} <= hi${j}; k${j}++) {`, `    let u${j} = t${j} - k${j} * ${d};`);
    if (s > 1) lines.push(`    if (u${j} % ${s} != 0) { continue; }`);
    lines.push(`    let p${j} = u32(u${j} / ${s});`);
  }
  const row = `o1 * ${u(ksz)} + ${flatten(axes.map((j) => `u32(k${j})`), a.kernel)}`;
  const col = `o0 * ${u(osz)} + ${flatten(axes.map((j) => `p${j}`), a.outSpatial)}`;
  lines.push(`    acc += ${cols.name}[(${row}) * ${u(n * osz)} + ${col}];`);
  lines.push(...axes.map(() => '  }'), '  let v0 = acc;');
  return lines.join('\n');
}

type PoolLike = { readonly mode: 'max' | 'avg'; readonly rank: 1 | 2 | 3; readonly kernel: readonly number[]; readonly stride: readonly number[]; readonly padBefore: readonly number[] };

/**
 * Lines computing, for the window at output coordinates `${oc}2..`, the pooled value into `out`
 * (max: also `arg`, the flat x offset of the first maximum). Coordinates o0, o1 are n and c.
 */
function poolWindow(a: PoolLike, x: FlatInput, _outShape: readonly number[], oc: string, out: string): string {
  const r = a.rank;
  const lines: string[] = ['  var best = 0.0;', '  var seen = false;', '  var arg = 0u;', '  var sum = 0.0;', '  var cnt = 0.0;'];
  const axes = Array.from({ length: r }, (_, j) => j + 2);
  for (const ax of axes) {
    const j = ax - 2;
    lines.push(`  for (var k${ax} = 0; k${ax} < ${a.kernel[j]}; k${ax}++) {`, `    let q${ax} = i32(${oc}${ax}) * ${a.stride[j]} - ${a.padBefore[j]} + k${ax};`, `    if (u32(q${ax}) >= ${x.shape[ax]}u) { continue; }`);
  }
  const at = flatten([`${oc}0`, `${oc}1`, ...axes.map((ax) => `u32(q${ax})`)], x.shape);
  lines.push(`    let at = ${at};`, `    let xv = ${x.name}[at];`);
  if (a.mode === 'max') lines.push('    if (!seen || xv > best) { best = xv; arg = at; seen = true; }');
  else lines.push('    sum += xv;', '    cnt += 1.0;');
  for (let k = 0; k < r; k++) lines.push('  }');
  lines.push(a.mode === 'max' ? `  let ${out} = best;` : `  let ${out} = sum / cnt;`);
  return lines.join('\n');
}

/** Whether the pooling windows cover x exactly once each (2x2 stride 2 on an even size, ...). */
function windowsTile(a: PoolLike, xShape: readonly number[], dyShape: readonly number[]): boolean {
  return a.kernel.every((k, j) => k === a.stride[j] && a.padBefore[j] === 0 && dyShape[j + 2]! * k === xShape[j + 2]);
}

/**
 * Pooling gradient with one invocation per window, for windows that tile x: it reads the window
 * once and stores all of its elements (max: dy at the first maximum, 0 elsewhere; avg: dy / size),
 * where the per-element form would read a window for every element.
 */
function poolGradByWindow(a: PoolLike, dy: FlatInput, x: FlatInput): string {
  const axes = Array.from({ length: a.rank }, (_, j) => j + 2);
  const lines = a.mode === 'max' ? [poolWindow(a, x, dy.shape, 'o', 'm'), `  let g = ${dy.name}[i];`] : [`  let g = ${dy.name}[i] / ${f32Lit(sizeOf(a.kernel))};`];
  for (const ax of axes) lines.push(`  for (var k${ax} = 0u; k${ax} < ${u(a.kernel[ax - 2]!)}; k${ax}++) {`);
  const at = flatten(['o0', 'o1', ...axes.map((ax) => `o${ax} * ${u(a.stride[ax - 2]!)} + k${ax}`)], x.shape);
  lines.push(`    let at = ${at};`, a.mode === 'max' ? '    store(at, select(0.0, g, at == arg));' : '    store(at, g);');
  lines.push(...axes.map(() => '  }'));
  return lines.join('\n');
}

/** Gradient of pooling at x coordinates o0..: sum over the windows containing the element. */
function poolGrad(a: PoolLike, dy: FlatInput, x: FlatInput): string {
  const r = a.rank;
  const axes = Array.from({ length: r }, (_, j) => j + 2);
  const lines: string[] = ['  var acc = 0.0;'];
  for (const ax of axes) {
    const j = ax - 2;
    const [k, s, pb, od] = [a.kernel[j]!, a.stride[j]!, a.padBefore[j]!, dy.shape[ax]!];
    // Windows p with p*s - pb <= q < p*s - pb + k.
    lines.push(`  let lo${ax} = max(0, (i32(o${ax}) + ${pb} - ${k} + ${s}) / ${s});`);
    lines.push(`  let hi${ax} = min(${od - 1}, (i32(o${ax}) + ${pb}) / ${s});`);
  }
  for (const ax of axes) lines.push(`  for (var p${ax} = lo${ax}; p${ax} <= hi${ax}; p${ax}++) {`);
  const dyAt = flatten(['o0', 'o1', ...axes.map((ax) => `u32(p${ax})`)], dy.shape);
  if (a.mode === 'max') {
    const inner = poolWindow(a, x, dy.shape, 'pp', 'm').split('\n').map((l) => `  ${l}`).join('\n');
    lines.push(`    let pp0 = o0;\n    let pp1 = o1;`, ...axes.map((ax) => `    let pp${ax} = u32(p${ax});`), inner, `    if (arg == i) { acc += ${dy.name}[${dyAt}]; }`);
  } else {
    lines.push('    var cnt = 1.0;');
    for (const ax of axes) {
      const j = ax - 2;
      const [k, s, pb, xd] = [a.kernel[j]!, a.stride[j]!, a.padBefore[j]!, x.shape[ax]!];
      lines.push(`    let st${ax} = p${ax} * ${s} - ${pb};`, `    cnt *= f32(min(st${ax} + ${k}, ${xd}) - max(st${ax}, 0));`);
    }
    lines.push(`    acc += ${dy.name}[${dyAt}] / cnt;`);
  }
  for (let k = 0; k < r; k++) lines.push('  }');
  lines.push('  let v0 = acc;');
  return lines.join('\n');
}
