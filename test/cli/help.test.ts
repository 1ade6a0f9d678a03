// `--help` of every command and the README's table of commands come from cli/commands.ts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandTable, withCommandTable } from '../../cli/command-table.ts';
import { COMMANDS } from '../../cli/commands.ts';
import { main } from '../../cli/main.ts';

const README = join(import.meta.dirname, '../../README.md');

function captured(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join('') };
}

describe('--help', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(COMMANDS.map((c) => [c.name, c] as const))('cnnc %s --help lists every option and exits 0', async (name, spec) => {
    const out = captured();
    expect(await main([name, '--help'])).toBe(0);
    const text = out.text();
    expect(text.startsWith(`usage: cnnc ${name} `)).toBe(true);
    for (const flag of Object.keys(spec.options)) expect(text).toContain(`--${flag}`);
  });

  it('cnnc help COMMAND is the command\'s --help', async () => {
    const out = captured();
    expect(await main(['help', 'graph'])).toBe(0);
    expect(await main(['graph', '--help'])).toBe(0);
    const [viaHelp, viaFlag] = out.text().split(/(?=^usage: )/m);
    expect(viaHelp).toMatch(/^usage: cnnc graph /);
    expect(viaHelp).toBe(viaFlag);
  });
});

describe('a bad flag or argument count', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is one line naming the flag, the nearest option and the help, exit 2', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    const cases: [string[], string][] = [
      [['export', 'x.cnn', '--out', 'y'], "cnnc export: unknown option '--out' (did you mean --output?); see cnnc export --help\n"],
      [['train', 'x.cnn', '--epoch', '2'], "cnnc train: unknown option '--epoch' (did you mean --epochs?); see cnnc train --help\n"],
      [['check', 'x.cnn', '--frobnicate'], "cnnc check: unknown option '--frobnicate'; see cnnc check --help\n"],
      [['train', 'x.cnn', '--batch'], 'cnnc train: --batch needs a value; see cnnc train --help\n'],
      [['summary', 'x.cnn', '--json=yes'], 'cnnc summary: --json takes no value; see cnnc summary --help\n'],
      [['graph', 'a.cnn', 'layer1_0'], "cnnc graph: expected one FILE, got 2 ('a.cnn', 'layer1_0'); see cnnc graph --help\n"],
      [['summary'], 'cnnc summary: expected one FILE, got 0; see cnnc summary --help\n'],
    ];
    for (const [argv] of cases) expect(await main(argv)).toBe(2);
    expect(err).toEqual(cases.map(([, line]) => line));
  });
});

describe("README's table of commands", () => {
  it('is current (regenerate: node bin/run-ts.js scripts/readme-commands.ts)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(withCommandTable(readme, COMMANDS)).toBe(readme);
  });

  it('has one row per command, pipes escaped', () => {
    const table = commandTable([{ name: 'x', args: 'A|B', summary: 'does x', options: {}, load: async () => async () => 0 }]);
    expect(table.split('\n')).toEqual(['| command | does |', '| --- | --- |', '| `cnnc x A\\|B` | does x |']);
    expect(commandTable(COMMANDS).split('\n')).toHaveLength(COMMANDS.length + 2);
  });
});
