// The `.names` sidecar format: parsing, errors with file and line, translation, and the stdlib's
// maps naming models their files declare.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../compiler/program.ts';
import { matchRule, parseNameMaps, type NameMap } from '../../runtime/weights/name-map.ts';

describe('name maps', () => {
  const [map] = parseNameMaps('# c\nmap torchvision for A, B\n  conv1  stem.conv1\n  layer{n}.{i}.downsample.0  layer{n}_{i}.downsample\n  layer{n}.{i}  layer{n}_{i}\n', 'x.names');

  const translateName = (name: string, m: NameMap): string => matchRule(name, m).name;

  it('maps module paths and keeps the tensor suffix; first rule wins; other names pass', () => {
    expect(map!.models).toEqual(['A', 'B']);
    expect(translateName('conv1.weight', map!)).toBe('stem.conv1.weight');
    expect(translateName('conv10.weight', map!)).toBe('conv10.weight');
    expect(translateName('layer2.0.downsample.0.weight', map!)).toBe('layer2_0.downsample.weight');
    expect(translateName('layer2.1.bn1.running_var', map!)).toBe('layer2_1.bn1.running_var');
    expect(translateName('fc.bias', map!)).toBe('fc.bias');
  });

  it('reports malformed files with file and line', () => {
    expect(() => parseNameMaps('  a b\n', 'm.names')).toThrow(/^m\.names:1: expected 'map SOURCE for MODEL/);
    expect(() => parseNameMaps('map t for M\n  a b c\n', 'm.names')).toThrow(/^m\.names:2: a rule is 'FROM TO'/);
    expect(() => parseNameMaps('map t for M\n  a.{x} b.{y}\n', 'm.names')).toThrow(/^m\.names:2: 'b\.\{y\}' uses \{y\}/);
  });

  it("reads a rule's channels directive and rejects a malformed one with file and line", () => {
    const [m] = parseNameMaps('map keras for M\n  conv2d_23  conv23  channels 4 0 1 2 3 per 85\n  conv2d_{i}  conv{i}\n', 'y.names');
    expect(m!.rules[0]!.channels).toEqual({ perm: [4, 0, 1, 2, 3], group: 85, where: 'y.names:2' });
    expect(m!.rules[1]!.channels).toBeUndefined();
    const bad = (directive: string) => () => parseNameMaps(`map keras for M\n\n  a  b  ${directive}\n`, 'y.names');
    const syntax = " \\(the directive is 'channels P0 P1 \\.\\. per G'\\)$";
    expect(bad('channels 4 0 1 2 2 per 85')).toThrow(new RegExp(`^y\\.names:3: '4 0 1 2 2' is not a permutation of 0\\.\\.4 \\(missing 3\\)${syntax}`));
    expect(bad('channels 1 2 per 5')).toThrow(new RegExp(`^y\\.names:3: '1 2' is not a permutation of 0\\.\\.1 \\(missing 0\\)${syntax}`));
    expect(bad('channels 1 0 per 0')).toThrow(new RegExp(`^y\\.names:3: the group size must be a positive whole number, got '0'${syntax}`));
    expect(bad('channels 2 1 0 per 2')).toThrow(new RegExp(`^y\\.names:3: 3 channels listed for groups of 2${syntax}`));
    expect(bad('channels 1 x per 2')).toThrow(new RegExp(`^y\\.names:3: 'x' is not a channel number${syntax}`));
    expect(bad('channels per 2')).toThrow(new RegExp(`^y\\.names:3: 'channels per 2' lists no channels${syntax}`));
    expect(bad('channels 1 0')).toThrow(new RegExp(`^y\\.names:3: 'channels 1 0' does not end in 'per G'${syntax}`));
    expect(bad('per 85')).toThrow(/^y\.names:3: a rule is 'FROM TO' \(two names\), optionally followed by 'channels P0 P1 \.\. per G', got 'a  b  per 85'$/);
  });

  const stdlib = readdirSync('stdlib').filter((f) => f.endsWith('.names'));
  it.each(stdlib)('stdlib/%s names models its .cnn file declares', (file) => {
    const models = new Set(checkFile(`stdlib/${file.replace(/\.names$/, '.cnn')}`).graphs.map((g) => g.name));
    const maps = parseNameMaps(readFileSync(`stdlib/${file}`, 'utf8'), file);
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) for (const name of m.models) expect(models.has(name), `${file}: ${name}`).toBe(true);
  });
});
