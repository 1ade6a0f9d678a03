// The `.names` sidecar format: parsing, errors with file and line, translation, and the stdlib's
// maps naming models their files declare.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../compiler/program.ts';
import { parseNameMaps, translateName } from '../../runtime/weights/name-map.ts';

describe('name maps', () => {
  const [map] = parseNameMaps('# c\nmap torchvision for A, B\n  conv1  stem.conv1\n  layer{n}.{i}.downsample.0  layer{n}_{i}.downsample\n  layer{n}.{i}  layer{n}_{i}\n', 'x.names');

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

  const stdlib = readdirSync('stdlib').filter((f) => f.endsWith('.names'));
  it.each(stdlib)('stdlib/%s names models its .cnn file declares', (file) => {
    const models = new Set(checkFile(`stdlib/${file.replace(/\.names$/, '.cnn')}`).graphs.map((g) => g.name));
    const maps = parseNameMaps(readFileSync(`stdlib/${file}`, 'utf8'), file);
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) for (const name of m.models) expect(models.has(name), `${file}: ${name}`).toBe(true);
  });
});
