// How much the fuzz suites run. CI runs the quick pass; a long pass runs by hand:
//   CNNC_FUZZ=50 npx vitest run test/fuzz
// multiplies every suite's case count by 50. Each case is also timed: one that takes longer than
// CASE_LIMIT_MS is a hang, whatever it returns.

export const FUZZ_SCALE = Math.max(1, Number(process.env.CNNC_FUZZ ?? '1') || 1);

/** Cases for a property, scaled by CNNC_FUZZ. */
export const runs = (quick: number): number => Math.round(quick * FUZZ_SCALE);

/** Generous for a loaded 2-core CI machine; the slowest legitimate case takes about a tenth of it. */
export const CASE_LIMIT_MS = 5000;

/** Seconds a whole long pass may take per test. */
export const TEST_TIMEOUT_MS = 60_000 * FUZZ_SCALE;

/** Milliseconds of CPU this process has used. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `f` and fails if it took longer than CASE_LIMIT_MS of CPU time. A synchronous case's CPU
 * time is its work; its wall time also counts whatever else the machine runs (six test runs on
 * two cores stretched a 0.9 s check to 5.8 s).
 */
export function bounded<T>(what: string, f: () => T): T {
  const started = cpuMs();
  const result = f();
  const ms = cpuMs() - started;
  if (ms > CASE_LIMIT_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms of CPU (limit ${CASE_LIMIT_MS} ms): a hang`);
  return result;
}

export async function boundedAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await f();
  const ms = performance.now() - started;
  if (ms > CASE_LIMIT_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms): a hang`);
  return result;
}
