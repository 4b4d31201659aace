import { createHash, type KeyObject } from 'node:crypto';
import { type Catalog, DEFAULT_LICENSE_API, type LicenseFormat, type Product } from './catalog';
import type { Action, FulfillmentEvent, ProviderName } from './events';
import { type Hold, type HoldKind, type LicenseStatus, scheduledEnd, statusFromHolds } from './holds';
import { LIFECYCLE } from './lifecycle';

export type { Hold, HoldKind, LicenseStatus } from './holds';
export { MAX_SIGNED_UNIT_LICENSES, MAX_UNIT_LICENSES } from './issuing';

/**
 * One entitlement (an order or a subscription): its current state, and the pure function that
 * changes it.
 *
 * The entitlement item holds the current state only — licenses, holds, the subscription — plus
 * the records of the few events it has applied but not yet finished (`pending`). Every applied
 * event also gets an item of its own (its record: what it changed, its email; see
 * functions/aws/store.ts), which is what recognizes it forever as a duplicate. Nothing in this
 * item grows with the order's age, so it stays bounded in bytes (docs/data-model.md).
 *
 * `apply` never reads a clock for anything the customer sees: keys, ids, issue and expiry dates
 * come from the event, so applying the same event to the same state always produces the same
 * bytes — that is what makes a retried write harmless.
 */

export type EntitlementStatus = LicenseStatus | 'none';

export interface License {
  licenseId: string;
  /** keysmith product id from the catalog. */
  product: string;
  productName: string;
  providerProductId: string;
  unit: number;
  format: LicenseFormat;
  /** The license text exactly as the customer receives it (key or signed token). */
  key: string;
  seats: number;
  /** Derived from the holds in force (the license's own and its order's); stored for readers. */
  status: LicenseStatus;
  issuedAt: string;
  expiresAt: string | null;
  /** Holds aimed at this license alone (a partial refund, a seller's suspension); see holds.ts. */
  holds?: Hold[];
}

export type EmailKind = 'license' | 'revoked' | 'renewed';
export type EmailStatus = 'pending' | 'sent' | 'failed';

/** What an event did to licenses, grouped: history as `keysmith show` prints it. */
export interface LicenseChange {
  /** The licenses it concerns, or `all` of the order's (also ones issued later, for an order-wide hold). */
  licenses: string[] | 'all';
  what: 'issued' | 'hold' | 'lifted' | 'extended' | 'changed' | 'no change';
  hold?: HoldKind;
  detail?: string;
}

/** One applied event: its record is the dedupe marker and what it left to do and did. */
export interface AppliedEvent {
  eventId: string;
  /** 1 for the first event the order applied, then 2, 3, … (orders history; names holds). */
  seq: number;
  /** The second dedupe key some providers need (FastSpring manual resends get new event ids). */
  businessKey?: string;
  action: Action;
  reason: string;
  occurredAt: string;
  appliedAt: string;
  /** `seller` for `keysmith` operations; absent for the storefront's events. */
  by?: 'seller';
  /** Set when the event owes the customer an email. */
  email?: {
    kind: EmailKind;
    status: EmailStatus;
    /** Who may send it now (the SQS message id of the delivery that owns it) and since when. */
    claim?: string;
    claimedAt?: string;
    messageId?: string;
    error?: string;
    sentAt?: string;
  };
  /** Licenses this event issued or changed (what its email shows). */
  licenseIds?: string[];
  /** Licenses this event created or re-signed whose key-lookup items must exist. */
  lookups?: 'pending' | 'done';
  /**
   * `pending` from the state write until the license views of the state it made are written
   * (functions/worker/processEvent.ts). A record item that says so was flushed by another delivery
   * after this event's own crashed: its redelivery writes every view of the order.
   */
  views?: 'pending';
  /** A permanent problem (unknown product, …) recorded instead of retried. */
  problem?: { code: string; message: string };
  changes?: LicenseChange[];
}

export interface Entitlement {
  provider: ProviderName;
  scope: string;
  orderId?: string;
  /** Customer-facing order reference (FastSpring); also finds the entitlement. */
  reference?: string;
  live: boolean;
  customer: FulfillmentEvent['customer'];
  /** Summary of the licenses' statuses (`none` before any license). */
  status: EntitlementStatus;
  subscription?: { id: string; periodEnd?: string };
  licenses: License[];
  /** Holds on the whole order: they cover every license, also ones issued later. */
  holds: Hold[];
  /**
   * Records of events applied here whose own record item may not be written yet. An entry leaves
   * only once its record item is known to exist (functions/worker/processEvent.ts), so an event is
   * always found either here or there — never forgotten.
   */
  pending: AppliedEvent[];
  /**
   * Dedupe keys (`dedupeKey`) of the last RECENT_KEYS events that left `pending`. Their records
   * are what recognizes them; this ring covers a reader that saw the order after an event left
   * `pending` but its record before it was written (two items, read in one unordered batch).
   */
  recent: string[];
  /** How many events the order has applied (the last one's `seq`). */
  seq: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ApplyContext {
  catalog: Catalog;
  licenseSecret: string;
  /** Ed25519 private key; needed only when a product uses the `signed` format. */
  signingKey?: KeyObject;
  /** Wall clock, used only for bookkeeping (`appliedAt`, `updatedAt`). */
  now: Date;
}

export type ApplyResult = { duplicate: true; state: Entitlement; applied?: AppliedEvent } | { duplicate: false; state: Entitlement; applied: AppliedEvent };

export function entitlementKey(provider: ProviderName, scope: string): string {
  return `${provider}#${scope}`;
}

export function emptyEntitlement(event: FulfillmentEvent, now: Date): Entitlement {
  return {
    provider: event.provider,
    scope: event.scope,
    ...(event.orderId !== undefined ? { orderId: event.orderId } : {}),
    live: event.live,
    customer: event.customer,
    status: 'none',
    licenses: [],
    holds: [],
    pending: [],
    recent: [],
    seq: 0,
    version: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** Events kept in `recent`. */
export const RECENT_KEYS = 32;

/** A short, stable stand-in for an event id or business key (ids may be 512 characters). */
export function dedupeKey(id: string): string {
  return id.length <= 64 ? id : `sha256:${createHash('sha256').update(id).digest('base64url')}`;
}

/** Whether the event is among the last ones that left `pending` (see `recent`). */
export function recentlyApplied(state: Entitlement, event: Pick<FulfillmentEvent, 'eventId' | 'businessKey'>): boolean {
  return state.recent.includes(dedupeKey(event.eventId)) || (event.businessKey !== undefined && state.recent.includes(dedupeKey(event.businessKey)));
}

/** Drop finished records from `pending` (their record items exist), remembering them in `recent`. */
export function retirePending(state: Entitlement, finished: readonly AppliedEvent[]): void {
  for (const record of finished) {
    const at = state.pending.findIndex((e) => e.eventId === record.eventId);
    if (at < 0) continue;
    state.pending.splice(at, 1);
    state.recent.push(dedupeKey(record.eventId), ...(record.businessKey !== undefined ? [dedupeKey(record.businessKey)] : []));
  }
  if (state.recent.length > RECENT_KEYS) state.recent.splice(0, state.recent.length - RECENT_KEYS);
}

/** The record of this event (or of its business key) among the order's unfinished ones. */
export function pendingRecord(state: Entitlement, event: Pick<FulfillmentEvent, 'eventId' | 'businessKey'>): AppliedEvent | undefined {
  return state.pending.find((e) => e.eventId === event.eventId || (event.businessKey !== undefined && e.businessKey === event.businessKey));
}

/**
 * Apply one event. Pure: same state and event in, same state out. Only the order's unfinished
 * records are checked for duplicates here; the worker also checks the event's own record item.
 */
export function apply(current: Entitlement | undefined, event: FulfillmentEvent, ctx: ApplyContext): ApplyResult {
  const base = current ?? emptyEntitlement(event, ctx.now);
  const seen = pendingRecord(base, event);
  if (seen) return { duplicate: true, state: base, applied: seen };

  const state: Entitlement = structuredClone(base);
  state.updatedAt = ctx.now.toISOString();
  if (event.customer.email) state.customer = { ...state.customer, ...definedOnly(event.customer) };
  if (event.orderId !== undefined && state.orderId === undefined) state.orderId = event.orderId;
  if (event.reference !== undefined && state.reference === undefined) state.reference = event.reference;
  state.seq += 1;
  const applied: AppliedEvent = {
    eventId: event.eventId,
    seq: state.seq,
    ...(event.businessKey !== undefined ? { businessKey: event.businessKey } : {}),
    action: event.action,
    reason: event.reason,
    occurredAt: event.occurredAt,
    appliedAt: ctx.now.toISOString(),
    ...(event.by === 'seller' ? { by: 'seller' as const } : {}),
  };

  LIFECYCLE[event.action](state, event, ctx, applied);
  refreshStatuses(state);
  state.pending.push(applied);
  return { duplicate: false, state, applied };
}

/** Recompute every license's status, and the order's summary, from the holds. */
export function refreshStatuses(state: Entitlement): void {
  for (const license of state.licenses) license.status = statusFromHolds(holdsOn(state, license));
  if (state.licenses.length === 0) {
    const orderWide = statusFromHolds(state.holds);
    state.status = orderWide === 'active' ? 'none' : orderWide;
  } else if (state.licenses.some((l) => l.status === 'active')) state.status = 'active';
  else if (state.licenses.every((l) => l.status === 'revoked')) state.status = 'revoked';
  else state.status = 'suspended';
}

/** Every hold in force on a license: its own and its order's. */
export function holdsOn(state: Pick<Entitlement, 'holds'>, license: Pick<License, 'holds'>): Hold[] {
  return [...state.holds, ...(license.holds ?? [])];
}

/** The catalog product of a license; one removed from the catalog after issue gets defaults. */
export function productOf(catalog: Catalog, license: License): Product {
  return (
    catalog.products[license.product] ?? {
      name: license.productName,
      match: {},
      license: { format: license.format, perUnit: true, seats: 'quantity', duration: 'perpetual' },
      email: { subject: 'Your {product} license', intro: 'Here is your license:', instructions: '', notifyRevoke: false, notifyRenew: false },
      licenseApi: DEFAULT_LICENSE_API,
    }
  );
}

/** When a license stops being valid: its own expiry or a scheduled end, whichever is first. */
export function effectiveExpiry(license: License, state?: Pick<Entitlement, 'holds'>): string | null {
  const ends = scheduledEnd(state ? holdsOn(state, license) : (license.holds ?? []));
  if (ends === null) return license.expiresAt;
  if (license.expiresAt === null) return ends;
  return Date.parse(ends) < Date.parse(license.expiresAt) ? ends : license.expiresAt;
}

/** What a support tool shows: `expired` is derived from the clock, never stored. */
export function effectiveStatus(license: License, now: Date, state?: Pick<Entitlement, 'holds'>): LicenseStatus | 'expired' {
  const expiry = effectiveExpiry(license, state);
  if (license.status === 'active' && expiry !== null && Date.parse(expiry) <= now.getTime()) return 'expired';
  return license.status;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
