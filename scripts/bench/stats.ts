/** Small statistics and formatting helpers for the benchmark report. */

/** Nearest-rank percentile of already measured values (milliseconds or anything else). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Elapsed milliseconds since a `process.hrtime.bigint()` reading. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** `1.234` → "1.23 ms", `0.0123` → "12.3 µs". */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.1 ? 1 : 0)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
}

export function fmtKb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

/** `2.04×`; with a goal, one more digit when two would hide which side of the goal it is on. */
export function fmtRatio(ratio: number, goal?: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  const digits = goal !== undefined && ratio.toFixed(2) === goal.toFixed(2) && ratio !== goal ? 3 : 2;
  return `${ratio.toFixed(digits)}×`;
}

/** What every figure's line ends with. */
export function verdict(met: boolean): string {
  return met ? 'goal met' : 'goal NOT met';
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
