import type { FulfillmentEvent } from './events';

/**
 * Holds: why a license is not active.
 *
 * A license's status is never a single field that the last event overwrote. It is derived from
 * independent holds, each set by one kind of event and lifted only by its own kind — so a
 * provider's "reinstate" can never lift the seller's own suspension, and a dispute won can never
 * undo a refund:
 *
 * | hold                 | set by                                   | lifted by                         |
 * |----------------------|------------------------------------------|-----------------------------------|
 * | `revoked`            | provider refund / chargeback / return /  | never (final)                     |
 * |                      | unsubscribe, quantity reduced            |                                   |
 * | `disputed`           | provider dispute opened                  | that dispute closed in the        |
 * |                      |                                          | seller's favour                   |
 * | `provider-suspended` | provider suspend / past due              | provider reinstate                |
 * | `seller-suspended`   | `keysmith suspend`                       | `keysmith reinstate` only         |
 * | `seller-revoked`     | `keysmith revoke`                        | never (final)                     |
 * | `period-end`         | cancellation at the end of the period    | un-cancel (provider reinstate),   |
 * |                      |                                          | a renewal                         |
 *
 * A hold is kept where the event aimed it: on the order (no items, no targets — it then covers
 * every license, also ones a late grant issues afterwards) or on the licenses it named.
 */

export const HOLD_KINDS = ['revoked', 'disputed', 'provider-suspended', 'seller-suspended', 'seller-revoked', 'period-end'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/** Holds nothing lifts. */
export const FINAL_HOLDS: ReadonlySet<HoldKind> = new Set(['revoked', 'seller-revoked']);
/** Holds that make a license unusable now but can be lifted (shown as `suspended`). */
export const SUSPENDING_HOLDS: ReadonlySet<HoldKind> = new Set(['disputed', 'provider-suspended', 'seller-suspended']);

export interface Hold {
  kind: HoldKind;
  /** Sequence number of the event that set it within its order (its record: `keysmith show`). */
  seq: number;
  /** When that event happened (the provider's time). */
  at: string;
  /** `period-end` only: when the licenses stop (the end of the paid period). */
  until?: string;
  /** Order-wide holds also carry the event's id and reason; a license's own holds name them by `seq`. */
  eventId?: string;
  reason?: string;
}

/** Who sent an event: the seller (CLI, console) or the storefront. */
export function bySeller(event: Pick<FulfillmentEvent, 'by' | 'eventId'>): boolean {
  // `manual#…` ids predate the `by` field; messages queued by an older CLI still count as the seller's.
  return event.by === 'seller' || event.eventId.startsWith('manual#');
}

/** The hold a `revoke` sets. */
export function revokeHold(event: FulfillmentEvent): HoldKind {
  if (event.effectiveAt !== undefined && Date.parse(event.effectiveAt) > Date.parse(event.occurredAt)) return 'period-end';
  if (bySeller(event)) return 'seller-revoked';
  if (event.hold === 'disputed' || event.reversible) return 'disputed';
  return 'revoked';
}

/** The hold a `suspend` sets. */
export function suspendHold(event: FulfillmentEvent): HoldKind {
  return bySeller(event) ? 'seller-suspended' : 'provider-suspended';
}

/**
 * The holds a `reinstate` may lift: the seller's reinstate lifts only the seller's suspension; a
 * dispute closed in the seller's favour lifts only the dispute; any other provider reinstate
 * (resume, un-pause, un-cancel) lifts the provider's suspension and a scheduled end.
 */
export function reinstateLifts(event: FulfillmentEvent): readonly HoldKind[] {
  if (bySeller(event)) return ['seller-suspended'];
  if (event.hold === 'disputed') return ['disputed'];
  return ['provider-suspended', 'period-end'];
}

/** A renewal means the subscription goes on: a scheduled end is lifted. */
export const RENEWAL_LIFTS: readonly HoldKind[] = ['period-end'];

/** Add `hold` unless one of its kind is already there; a later cancellation moves `until`. */
export function addHold(holds: Hold[], hold: Hold): boolean {
  const existing = holds.find((h) => h.kind === hold.kind);
  if (!existing) {
    holds.push(hold);
    return true;
  }
  if (hold.kind === 'period-end' && hold.until !== undefined && hold.until !== existing.until) {
    Object.assign(existing, hold);
    return true;
  }
  return false;
}

/** Remove the holds of these kinds; returns the kinds it removed. */
export function liftHolds(holds: Hold[], kinds: readonly HoldKind[]): HoldKind[] {
  const lifted: HoldKind[] = [];
  for (let i = holds.length - 1; i >= 0; i--) {
    if (kinds.includes(holds[i]!.kind)) lifted.push(...holds.splice(i, 1).map((h) => h.kind));
  }
  return lifted;
}

export type LicenseStatus = 'active' | 'suspended' | 'revoked';

/** A license's status from the holds in force on it (its own and its order's); the clock plays no part. */
export function statusFromHolds(holds: readonly Hold[]): LicenseStatus {
  if (holds.some((h) => FINAL_HOLDS.has(h.kind))) return 'revoked';
  if (holds.some((h) => SUSPENDING_HOLDS.has(h.kind))) return 'suspended';
  return 'active';
}

/** The earliest scheduled end among these holds, if any. */
export function scheduledEnd(holds: readonly Hold[]): string | null {
  let end: string | null = null;
  for (const h of holds) {
    if (h.kind !== 'period-end' || h.until === undefined) continue;
    if (end === null || Date.parse(h.until) < Date.parse(end)) end = h.until;
  }
  return end;
}
