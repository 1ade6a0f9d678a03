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

/** Runs `f` and fails if it took longer than CASE_LIMIT_MS. */
export function bounded<T>(what: string, f: () => T): T {
  const started = performance.now();
  const result = f();
  const ms = performance.now() - started;
  if (ms > CASE_LIMIT_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms): a hang`);
  return result;
}

export async function boundedAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await f();
  const ms = performance.now() - started;
  if (ms > CASE_LIMIT_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms): a hang`);
  return result;
}
