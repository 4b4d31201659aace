import { timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two byte strings, for the benchmark floors (`<name>/bench.ts`). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
