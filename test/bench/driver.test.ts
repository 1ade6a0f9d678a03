import { describe, expect, it } from 'vitest';
import { parseArgs, runSections, type Section } from '../../bench/driver.ts';

const fake = (name: string, lines: object[], fail?: string): Section => ({
  name,
  description: `fake ${name}`,
  async *run(context) {
    context.log(`${name} working`);
    for (const line of lines) yield line;
    if (fail !== undefined) throw new Error(fail);
  },
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('bench driver', () => {
  const sections = [fake('a', [{ section: 'a', v: 1 }, { section: 'a', v: 2 }]), fake('b', [{ section: 'b', v: 3 }])];

  it('runs every section by default, one JSON object per stdout line, progress on stderr', async () => {
    const { out, err, io } = capture();
    expect(await runSections([], sections, io)).toBe(0);
    expect(out.map((l) => JSON.parse(l))).toEqual([{ section: 'a', v: 1 }, { section: 'a', v: 2 }, { section: 'b', v: 3 }]);
    expect(err.some((l) => l.includes('a working'))).toBe(true);
  });

  it('runs only the named sections', async () => {
    const { out, io } = capture();
    expect(await runSections(['b'], sections, io)).toBe(0);
    expect(out).toEqual(['{"section":"b","v":3}']);
  });

  it('keeps going after a failing section and exits 1', async () => {
    const { out, err, io } = capture();
    const code = await runSections([], [fake('bad', [{ partial: true }], 'no device'), sections[1]!], io);
    expect(code).toBe(1);
    expect(out).toEqual(['{"partial":true}', '{"section":"b","v":3}']);
    expect(err.some((l) => l.includes('bad: failed: no device'))).toBe(true);
  });

  it('answers bad arguments with exit 2 and a message naming the value', async () => {
    const { err, io } = capture();
    expect(await runSections(['nope'], sections, io)).toBe(2);
    expect(err.join('\n')).toMatch(/unknown section 'nope'; sections: a, b/);
    expect(() => parseArgs(['--steps', 'many'], sections)).toThrow(/--steps needs a whole number, got 'many'/);
    expect(() => parseArgs(['--backend', 'metal'], sections)).toThrow(/got 'metal'/);
    expect(() => parseArgs(['--steps', '0'], sections)).toThrow(/at least 1/);
  });

  it('parses step overrides and lists sections', async () => {
    expect(parseArgs(['a', '--steps', '5', '--warmup', '0'], sections)).toEqual({
      sections: ['a'],
      options: { backend: 'vulkan', steps: 5, warmup: 0 },
      list: false,
    });
    const { out, io } = capture();
    expect(await runSections(['--list'], sections, io)).toBe(0);
    expect(out.map((l) => JSON.parse(l).section)).toEqual(['a', 'b']);
  });
});
