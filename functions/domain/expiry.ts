import type { Product } from './catalog';

/**
 * License expiry. Dates come from the event (never the clock), so applying an event twice gives
 * the same expiry. `expired` itself is never stored: readers derive it from the clock.
 */

export function initialExpiry(product: Product, issuedAt: string, periodEnd: string | undefined): string | null {
  const duration = product.license.duration;
  if (duration === 'perpetual') return null;
  if (duration === 'subscription') return periodEnd ?? null;
  return addDays(issuedAt, duration.days);
}

/** Renewal: from the current expiry, never shortening it. */
export function extendedExpiry(current: string | null, product: Product, periodEnd: string | undefined): string | null {
  const duration = product.license.duration;
  if (duration === 'perpetual') return current;
  // A subscription license issued before its first term was known (Elements CreateAccount).
  if (current === null) return duration === 'subscription' && periodEnd !== undefined ? iso(periodEnd) : null;
  let candidate: string | null;
  if (periodEnd !== undefined) candidate = periodEnd;
  else if (typeof duration === 'object') candidate = addDays(current, duration.days);
  else candidate = null;
  if (candidate === null) return current;
  return Date.parse(candidate) > Date.parse(current) ? iso(candidate) : current;
}

export function addDays(at: string, days: number): string {
  const base = Date.parse(at);
  if (Number.isNaN(base)) throw new Error(`not a date: ${at}`);
  return new Date(base + days * 86_400_000).toISOString();
}

function iso(at: string): string {
  return new Date(Date.parse(at)).toISOString();
}
