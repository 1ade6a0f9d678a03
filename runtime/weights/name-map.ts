// Name maps: how another framework's weight names (torchvision's `features.0.weight`, Keras'
// `conv2d_1`) become a model's own layer names. A `.cnn` file may carry them in a sidecar file of
// the same name ending in `.names` (stdlib/vgg.names beside stdlib/vgg.cnn):
//
//   # comment
//   map torchvision for VGG16, VGG19
//     features.0            features.conv1_1
//     layer{n}.{i}.downsample.0   layer{n}_{i}.downsample
//
// A rule maps a module path: `FROM.rest` becomes `TO.rest`, so the tensor's own suffix (`.weight`,
// `.running_var`) carries over. `{x}` matches one dot-free segment and is copied into TO. Rules
// are tried in order, the first that matches wins; a name no rule matches is kept as it is.
// A rule may end with `channels P0 P1 .. per G` to reorder the output channels of the tensors it
// maps (channel-order.ts): `conv2d_23  conv23  channels 4 0 1 2 3 per 85`.

import { UserError, type UserErrorKind } from '../../grammar/user-error.ts';
import { CHANNELS_SYNTAX, parseChannelOrder, type ChannelOrder } from './channel-order.ts';

export class NameMapError extends UserError {
  override readonly kind: UserErrorKind = 'data';
  constructor(message: string) {
    super(message);
    this.name = 'NameMapError';
  }
}

export interface NameRule {
  readonly from: string;
  readonly to: string;
  readonly pattern: RegExp;
  /** How the mapped tensors' output channels are reordered, when the rule says so. */
  readonly channels?: ChannelOrder;
}

export interface NameMap {
  /** Where the names come from (`torchvision`, `keras`): shown to the user. */
  readonly source: string;
  readonly models: readonly string[];
  readonly rules: readonly NameRule[];
  /** `file:line` of the `map` line. */
  readonly where: string;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
}

function compileRule(from: string, to: string, where: string): NameRule {
  const names = new Set<string>();
  let source = '';
  let last = 0;
  for (const m of from.matchAll(PLACEHOLDER)) {
    source += escapeRegExp(from.slice(last, m.index)) + `(?<${m[1]}>[^.]+)`;
    if (names.has(m[1]!)) throw new NameMapError(`${where}: placeholder {${m[1]}} appears twice in '${from}'`);
    names.add(m[1]!);
    last = m.index! + m[0].length;
  }
  source += escapeRegExp(from.slice(last));
  if (/[{}]/.test(source.replace(/\(\?<[^>]+>\[\^\.\]\+\)/g, ''))) throw new NameMapError(`${where}: malformed placeholder in '${from}'`);
  for (const m of to.matchAll(PLACEHOLDER)) {
    if (!names.has(m[1]!)) throw new NameMapError(`${where}: '${to}' uses {${m[1]}}, which '${from}' does not capture`);
  }
  return { from, to, pattern: new RegExp(`^${source}(?<rest>\\..*)?$`) };
}

/** Parses the text of a `.names` file. Errors name the file and line. */
export function parseNameMaps(text: string, file: string): NameMap[] {
  const maps: { source: string; models: string[]; rules: NameRule[]; where: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const header = /^map\s+([A-Za-z0-9_-]+)\s+for\s+(.+)$/.exec(line);
    if (header) {
      const models = header[2]!.split(/[\s,]+/).filter((m) => m !== '');
      maps.push({ source: header[1]!, models, rules: [], where });
      return;
    }
    const current = maps[maps.length - 1];
    if (!current) throw new NameMapError(`${where}: expected 'map SOURCE for MODEL, ...' before the first rule`);
    const [from, to, ...directive] = line.split(/\s+/);
    if (to === undefined || (directive.length > 0 && directive[0] !== 'channels')) {
      throw new NameMapError(`${where}: a rule is 'FROM TO' (two names), optionally followed by '${CHANNELS_SYNTAX}', got '${line}'`);
    }
    const rule = compileRule(from!, to, where);
    current.rules.push(directive.length > 0 ? { ...rule, channels: parseChannelOrder(directive, where) } : rule);
  });
  return maps;
}

/** The model's name for `name` under `map` and the rule that gave it (none: `name` unchanged). */
export function matchRule(name: string, map: NameMap): { name: string; rule?: NameRule } {
  for (const rule of map.rules) {
    const m = rule.pattern.exec(name);
    if (!m) continue;
    const groups = m.groups ?? {};
    return { name: rule.to.replace(PLACEHOLDER, (_, key: string) => groups[key]!) + (groups.rest ?? ''), rule };
  }
  return { name };
}
