// Start-up cost of the installed command: builds the package's dist/, then runs `cnnc check` on one
// file through a package layout (bin/cnnc.js beside dist/, no TypeScript sources, as npm installs
// it) and `node -e 0` on the same machine, and reports the CPU of each whole process. Also checks
// that `cnnc` leaves no process behind (each run gets its own process group, which must be empty
// once it exits). Linux only: child CPU comes from /proc/self/stat.

import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDist } from '../scripts/build-dist.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** The target of issue 18: a whole `cnnc check` process under 0.3 s of CPU. */
const TARGET_CPU_S = 0.3;

export interface StartupLine {
  readonly section: 'startup';
  readonly command: string;
  /** Mean CPU (user + system) of one whole `cnnc` process, seconds. */
  readonly cpu_s: number;
  /** The same for `node -e 0`: what any Node process costs on this machine. */
  readonly node_cpu_s: number;
  readonly wall_s: number;
  readonly runs: number;
  /** Processes still alive in a run's process group after `cnnc` exited (0 wanted). */
  readonly leftover_processes: number;
  readonly target_cpu_s: number;
  readonly within_target: boolean;
}

/** CPU seconds of this process's reaped children (cutime + cstime). */
function childrenCpu(ticksPerSecond: number): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the ") " come fields 3.. of proc(5); cutime and cstime are fields 16 and 17.
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / ticksPerSecond;
}

/** Processes whose process group is `pgid`. */
function groupMembers(pgid: number): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      if (Number(fields[5 - 3]) === pgid) count++;
    } catch {
      // The process ended while we looked.
    }
  }
  return count;
}

interface Measured {
  cpu: number;
  wall: number;
  leftover: number;
}

async function measure(args: readonly string[], ticks: number): Promise<Measured> {
  const before = childrenCpu(ticks);
  const start = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore', detached: true });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  const wall = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}`);
  // Give a stray child a moment to show up in the group before counting.
  await new Promise((r) => setTimeout(r, 50));
  const leftover = child.pid === undefined ? 0 : groupMembers(child.pid);
  return { cpu: childrenCpu(ticks) - before, wall, leftover };
}

async function mean(args: readonly string[], runs: number, ticks: number): Promise<Measured> {
  const all: Measured[] = [];
  for (let i = 0; i < runs; i++) all.push(await measure(args, ticks));
  const avg = (f: (m: Measured) => number) => all.reduce((s, m) => s + f(m), 0) / runs;
  return { cpu: avg((m) => m.cpu), wall: avg((m) => m.wall), leftover: Math.max(...all.map((m) => m.leftover)) };
}

/** A folder laid out as the installed package: bin/cnnc.js and dist/, no sources. */
function packageLayout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnnc-startup-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/cnnc.js'), join(dir, 'bin/cnnc.js'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  return dir;
}

export async function* startupSection(log: (line: string) => void, runs = 10): AsyncGenerator<StartupLine> {
  log('startup: building dist/');
  await buildDist();
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const dir = packageLayout();
  try {
    const file = 'stdlib/resnet.cnn';
    await measure([join(dir, 'bin/cnnc.js'), 'check', file], ticks); // file cache warm
    const node = await mean(['-e', '0'], runs, ticks);
    const cnnc = await mean([join(dir, 'bin/cnnc.js'), 'check', file], runs, ticks);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    yield {
      section: 'startup',
      command: `cnnc check ${file}`,
      cpu_s: round(cnnc.cpu),
      node_cpu_s: round(node.cpu),
      wall_s: round(cnnc.wall),
      runs,
      leftover_processes: cnnc.leftover,
      target_cpu_s: TARGET_CPU_S,
      within_target: cnnc.cpu <= TARGET_CPU_S && cnnc.leftover === 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
