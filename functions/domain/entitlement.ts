import type { KeyObject } from 'node:crypto';
import { resolveProduct, sendsLicenseEmail, type Catalog, type LicenseFormat, type Product } from './catalog';
import type { Action, FulfillmentEvent, ProviderName } from './events';
import { deriveKey, licenseIdFor, type LicenseUnit } from './licenses';
import { signLicense } from './signedLicense';

/**
 * One entitlement (an order or a subscription) and the pure function that changes it.
 *
 * Everything the worker knows about an order lives in one item, and every change goes through
 * `apply(state, event)`. `apply` never reads a clock for anything the customer sees: keys, ids,
 * issue and expiry dates come from the event, so applying the same event to the same state
 * always produces the same bytes — that is what makes a retried write harmless.
 */

export type LicenseStatus = 'active' | 'suspended' | 'revoked';
export type EntitlementStatus = 'active' | 'suspended' | 'revoked' | 'none';

export interface HistoryEntry {
  at: string;
  eventId: string;
  action: Action | 'issue';
  reason: string;
  detail?: string;
}

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
  status: LicenseStatus;
  issuedAt: string;
  expiresAt: string | null;
  history: HistoryEntry[];
}

export type EmailKind = 'license' | 'revoked' | 'renewed';
export type EmailStatus = 'pending' | 'sent' | 'failed';

/** One applied event: its id is the dedupe record, the rest is what it left to do and did. */
export interface AppliedEvent {
  eventId: string;
  action: Action;
  reason: string;
  occurredAt: string;
  appliedAt: string;
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
  /** Licenses this event created whose key-lookup items must exist. */
  lookups?: 'pending' | 'done';
  /** A permanent problem (unknown product, …) recorded instead of retried. */
  problem?: { code: string; message: string };
}

export interface Entitlement {
  provider: ProviderName;
  scope: string;
  orderId?: string;
  /** Customer-facing order reference (FastSpring); also finds the entitlement. */
  reference?: string;
  live: boolean;
  customer: FulfillmentEvent['customer'];
  status: EntitlementStatus;
  subscription?: { id: string; periodEnd?: string; endsAt?: string | null };
  licenses: License[];
  /** Applied events, oldest first, capped at MAX_EVENTS (see `apply`). */
  events: AppliedEvent[];
  /** Business keys already applied (FastSpring manual resends carry new event ids). */
  businessKeys: string[];
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

export type ApplyResult =
  | { duplicate: true; state: Entitlement }
  | { duplicate: false; state: Entitlement; applied: AppliedEvent };

/**
 * The entitlement keeps this many applied event ids. Older ids drop out; a redelivery older than
 * that is still harmless for grants (licenses are per unit and never issued twice) — see README.
 */
export const MAX_EVENTS = 200;
/**
 * Licenses one entitlement issues one by one; more units of a per-unit product are consolidated
 * into one license with their seats. A license takes ~400 bytes of the item (≤ 400 KB in all).
 */
export const MAX_UNIT_LICENSES = 500;
/** Per license: the newest entries are kept so the item stays far below DynamoDB's 400 KB. */
export const MAX_HISTORY = 50;

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
    events: [],
    businessKeys: [],
    version: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

export function hasApplied(state: Entitlement, event: FulfillmentEvent): boolean {
  return (
    state.events.some((e) => e.eventId === event.eventId) ||
    (event.businessKey !== undefined && state.businessKeys.includes(event.businessKey))
  );
}

/** Apply one event. Pure: same state and event in, same state out. */
export function apply(current: Entitlement | undefined, event: FulfillmentEvent, ctx: ApplyContext): ApplyResult {
  const base = current ?? emptyEntitlement(event, ctx.now);
  if (hasApplied(base, event)) return { duplicate: true, state: base };

  const state: Entitlement = structuredClone(base);
  state.updatedAt = ctx.now.toISOString();
  if (event.customer.email) state.customer = { ...state.customer, ...definedOnly(event.customer) };
  if (event.orderId !== undefined && state.orderId === undefined) state.orderId = event.orderId;
  if (event.reference !== undefined && state.reference === undefined) state.reference = event.reference;
  const applied: AppliedEvent = {
    eventId: event.eventId,
    action: event.action,
    reason: event.reason,
    occurredAt: event.occurredAt,
    appliedAt: ctx.now.toISOString(),
  };

  LIFECYCLE[event.action](state, event, ctx, applied);

  state.events.push(applied);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
  if (event.businessKey !== undefined) {
    state.businessKeys.push(event.businessKey);
    if (state.businessKeys.length > MAX_EVENTS) state.businessKeys.splice(0, state.businessKeys.length - MAX_EVENTS);
  }
  for (const license of state.licenses) {
    if (license.history.length > MAX_HISTORY) license.history.splice(0, license.history.length - MAX_HISTORY);
  }
  return { duplicate: false, state, applied };
}

type Step = (state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, applied: AppliedEvent) => void;

/** One small unit per lifecycle action. */
const LIFECYCLE: Record<Action, Step> = {
  grant(state, event, ctx, applied) {
    if (event.subscription) state.subscription = { ...state.subscription, ...event.subscription };
    // A revoke or suspend that arrived first (e.g. after a DLQ redrive) still wins.
    const statusForNew: LicenseStatus = state.status === 'revoked' ? 'revoked' : state.status === 'suspended' ? 'suspended' : 'active';
    const created: License[] = [];
    for (const item of event.items) {
      const line = resolveLine(ctx, event, item, applied);
      if (line) created.push(...issueUnits(state, event, ctx, line, statusForNew, applied));
    }
    if (state.status === 'none') state.status = 'active';
    if (created.length > 0) {
      applied.lookups = 'pending';
      const emailed = created.filter((l) => l.status === 'active' && sendsLicenseEmail(productOf(ctx.catalog, l), event.provider));
      applied.licenseIds = created.map((l) => l.licenseId);
      if (emailed.length > 0 && event.customer.email) applied.email = { kind: 'license', status: 'pending' };
    }
  },

  revoke(state, event, ctx, applied) {
    if (event.effectiveAt !== undefined && Date.parse(event.effectiveAt) > Date.parse(event.occurredAt)) {
      // Cancelled at period end: the licenses stay valid until then (see effectiveStatus).
      state.subscription = { id: event.subscription?.id ?? state.subscription?.id ?? state.scope, ...state.subscription, endsAt: event.effectiveAt };
      for (const license of selectLicenses(state, event)) {
        if (license.status !== 'revoked') license.history.push(entry(event, 'revoke', `scheduled for ${event.effectiveAt}`));
      }
      return;
    }
    const targets = selectLicenses(state, event);
    if (state.licenses.length === 0 || (event.items.length === 0 && !event.targets)) state.status = 'revoked';
    let changed = 0;
    for (const license of targets) {
      if (license.status === 'revoked') continue;
      license.status = 'revoked';
      license.history.push(entry(event, 'revoke', event.reversible ? REVERSIBLE : undefined));
      (applied.licenseIds ??= []).push(license.licenseId);
      changed++;
    }
    if (state.licenses.length > 0 && state.licenses.every((l) => l.status === 'revoked')) state.status = 'revoked';
    if (changed > 0 && notifies(ctx, state, 'notifyRevoke') && event.customer.email) {
      applied.email = { kind: 'revoked', status: 'pending' };
    }
  },

  suspend(state, event) {
    if (state.status !== 'revoked' && !event.targets) state.status = 'suspended';
    for (const license of selectLicenses(state, event)) {
      if (license.status !== 'active') continue;
      license.status = 'suspended';
      license.history.push(entry(event, 'suspend'));
    }
  },

  reinstate(state, event) {
    if (state.subscription?.endsAt) {
      for (const license of state.licenses) {
        if (license.status !== 'revoked') license.history.push(entry(event, 'reinstate', `scheduled end ${state.subscription.endsAt} cancelled`));
      }
      state.subscription = { ...state.subscription, endsAt: null };
    }
    if (state.status === 'suspended' || state.status === 'none') state.status = state.licenses.length > 0 ? 'active' : 'none';
    for (const license of selectLicenses(state, event)) {
      const undoable = license.status === 'suspended' || (license.status === 'revoked' && lastRevokeWasReversible(license));
      if (!undoable) continue;
      license.status = 'active';
      license.history.push(entry(event, 'reinstate'));
    }
    if (state.status === 'revoked' && state.licenses.some((l) => l.status === 'active')) state.status = 'active';
  },

  extend(state, event, ctx, applied) {
    const periodEnd = event.subscription?.periodEnd;
    if (event.subscription) {
      state.subscription = { ...state.subscription, ...event.subscription, endsAt: null };
    }
    let changed = 0;
    let resigned = false;
    for (const license of state.licenses) {
      if (license.status === 'revoked') continue;
      const next = extendedExpiry(license, productOf(ctx.catalog, license), periodEnd);
      if (next === license.expiresAt) continue;
      license.history.push(entry(event, 'extend', `${license.expiresAt ?? 'perpetual'} → ${next ?? 'perpetual'}`));
      license.expiresAt = next;
      (applied.licenseIds ??= []).push(license.licenseId);
      changed++;
      if (license.format === 'signed') {
        // The token carries its expiry: a renewal is a new token, so the customer must get it.
        license.key = renderKey(license, state, ctx, unitOf(state, license));
        resigned = true;
      }
    }
    if (resigned) applied.lookups = 'pending';
    const notify = resigned || notifies(ctx, state, 'notifyRenew');
    if (changed > 0 && notify && (event.customer.email || state.customer.email)) {
      applied.email = { kind: 'renewed', status: 'pending' };
    }
  },

  change(state, event, ctx, applied) {
    if (event.subscription) state.subscription = { ...state.subscription, ...event.subscription };
    for (const item of event.items) {
      const line = resolveLine(ctx, event, item, applied);
      if (line) changeTo(state, event, ctx, line, applied);
    }
  },

  record(state, event, ctx, applied) {
    // Stored in `events`, nothing else changes — unless support asked to resend the licenses.
    if (!event.resendEmail) return;
    const active = selectLicenses(state, event).filter((l) => l.status === 'active');
    if (active.length > 0 && state.customer.email) {
      applied.licenseIds = active.map((l) => l.licenseId);
      applied.email = { kind: 'license', status: 'pending' };
    }
  },
};

/** One item of an event, resolved to its catalog product. */
interface Line {
  productId: string;
  product: Product;
  providerProductId: string;
  quantity: number;
}

/** The item's catalog product, or a recorded UNKNOWN_PRODUCT problem (a permanent failure). */
function resolveLine(ctx: ApplyContext, event: FulfillmentEvent, item: FulfillmentEvent['items'][number], applied: AppliedEvent): Line | undefined {
  const resolved = resolveProduct(ctx.catalog, event.provider, item.productId);
  if (!resolved) {
    applied.problem = { code: 'UNKNOWN_PRODUCT', message: `no catalog product matches ${event.provider} product "${item.productId}"` };
    return undefined;
  }
  return { productId: resolved.id, product: resolved.product, providerProductId: item.productId, quantity: item.quantity };
}

function issueUnits(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, status: LicenseStatus, applied?: AppliedEvent): License[] {
  const { product, quantity, providerProductId } = line;
  const policy = product.license;
  const seats = policy.seats === 'quantity' ? (policy.perUnit ? 1 : quantity) : policy.seats;
  const created: License[] = [];
  const issue = (unitSeats: number): void => {
    const existing = state.licenses.filter((l) => l.providerProductId === providerProductId).length;
    const license = buildLicense(state, event, ctx, line, existing, unitSeats, status);
    state.licenses.push(license);
    created.push(license);
  };
  if (!policy.perUnit) {
    if (quantity > 0) issue(seats);
    return created;
  }
  // One item holds the whole entitlement (≤ 400 KB): past MAX_UNIT_LICENSES licenses, the rest
  // of the units become one license carrying their seats — the customer loses nothing.
  const room = Math.max(0, MAX_UNIT_LICENSES - state.licenses.length);
  const single = Math.min(quantity, room);
  for (let i = 0; i < single; i++) issue(seats);
  const rest = quantity - single;
  if (rest > 0) {
    issue(rest * seats);
    if (applied) {
      applied.problem = {
        code: 'UNITS_CONSOLIDATED',
        message: `${rest} units over the ${MAX_UNIT_LICENSES}-license limit of one order were issued as one license with ${rest * seats} seats`,
      };
    }
  }
  return created;
}

function buildLicense(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, unitIndex: number, seats: number, status: LicenseStatus): License {
  const { productId, product, providerProductId } = line;
  const unit: LicenseUnit = { provider: event.provider, scope: state.scope, providerProductId, unit: unitIndex };
  const licenseId = licenseIdFor(unit);
  const issuedAt = event.occurredAt;
  const expiresAt = initialExpiry(product, issuedAt, event.subscription?.periodEnd);
  const history = [entry(event, 'issue')];
  if (status !== 'active') history.push(entry(event, status === 'revoked' ? 'revoke' : 'suspend', 'applied before the grant arrived'));
  const license: License = {
    licenseId,
    product: productId,
    productName: product.name,
    providerProductId,
    unit: unitIndex,
    format: product.license.format,
    key: '',
    seats,
    status,
    issuedAt,
    expiresAt,
    history,
  };
  license.key = renderKey(license, state, ctx, unit);
  return license;
}

/** The license text: a derived key, or a signed token carrying the license's current terms. */
function renderKey(license: License, state: Entitlement, ctx: ApplyContext, unit: LicenseUnit): string {
  if (license.format === 'key') return deriveKey(ctx.licenseSecret, unit);
  if (!ctx.signingKey) throw new Error('KEYSMITH_LICENSE_SIGNING_KEY is required for products with the signed format');
  return signLicense(ctx.signingKey, {
    licenseId: license.licenseId,
    product: license.product,
    seats: license.seats,
    customer: state.customer.email,
    issuedAt: license.issuedAt,
    expiresAt: license.expiresAt,
  });
}

function changeTo(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, applied: AppliedEvent): void {
  const { productId, product, providerProductId, quantity } = line;
  const live = state.licenses.filter((l) => l.status !== 'revoked');
  // Plan change: the licenses move to the new product, keeping their keys.
  for (const license of live) {
    if (license.product === productId && license.providerProductId === providerProductId) continue;
    license.history.push(entry(event, 'change', `product ${license.product} → ${productId}`));
    license.product = productId;
    license.productName = product.name;
    license.format = product.license.format;
  }
  const policy = product.license;
  if (!policy.perUnit) {
    const seats = policy.seats === 'quantity' ? quantity : policy.seats;
    for (const license of live) {
      if (license.seats === seats) continue;
      license.history.push(entry(event, 'change', `seats ${license.seats} → ${seats}`));
      license.seats = seats;
    }
    if (live.length === 0 && quantity > 0) {
      const created = issueUnits(state, event, ctx, line, 'active', applied);
      if (created.length > 0) applied.lookups = 'pending';
    }
  } else if (live.length < quantity) {
    const created = issueUnits(state, event, ctx, { ...line, quantity: quantity - live.length }, 'active', applied);
    if (created.length > 0) {
      applied.lookups = 'pending';
      applied.licenseIds = created.map((l) => l.licenseId);
      if (sendsLicenseEmail(product, event.provider) && state.customer.email) applied.email = { kind: 'license', status: 'pending' };
    }
  } else {
    // Fewer units: the newest ones go first.
    for (const license of [...live].sort((a, b) => b.unit - a.unit).slice(0, live.length - quantity)) {
      license.status = 'revoked';
      license.history.push(entry(event, 'revoke', 'quantity reduced'));
    }
  }
  // A signed token carries product and seats: re-sign so it states the current terms.
  for (const license of live) {
    if (license.format === 'signed' || license.key.split('.').length === 3) license.key = renderKey(license, state, ctx, unitOf(state, license));
  }
  if (live.length > 0) applied.lookups = 'pending';
}

function unitOf(state: Entitlement, license: License): LicenseUnit {
  return { provider: state.provider, scope: state.scope, providerProductId: license.providerProductId, unit: license.unit };
}

/** Licenses an event is about: the ones it targets, those of its items' products, or all. */
function selectLicenses(state: Entitlement, event: FulfillmentEvent): License[] {
  if (event.targets) return state.licenses.filter((l) => event.targets!.includes(l.licenseId));
  if (event.items.length === 0) return state.licenses;
  const selected: License[] = [];
  for (const item of event.items) {
    const matching = state.licenses.filter((l) => l.providerProductId === item.productId && !selected.includes(l));
    // Newest units first, as many as the event's quantity (a partial return names fewer units).
    selected.push(...matching.sort((a, b) => b.unit - a.unit).slice(0, item.quantity));
  }
  return selected;
}

function initialExpiry(product: Product, issuedAt: string, periodEnd: string | undefined): string | null {
  const duration = product.license.duration;
  if (duration === 'perpetual') return null;
  if (duration === 'subscription') return periodEnd ?? null;
  return addDays(issuedAt, duration.days);
}

/** Renewal: from the current expiry, never shortening it. */
function extendedExpiry(license: License, product: Product, periodEnd: string | undefined): string | null {
  const duration = product.license.duration;
  if (duration === 'perpetual') return license.expiresAt;
  // A subscription license issued before its first term was known (Elements CreateAccount).
  if (license.expiresAt === null) return duration === 'subscription' && periodEnd !== undefined ? new Date(Date.parse(periodEnd)).toISOString() : null;
  let candidate: string | null;
  if (periodEnd !== undefined) candidate = periodEnd;
  else if (typeof duration === 'object') candidate = addDays(license.expiresAt, duration.days);
  else candidate = null;
  if (candidate === null) return license.expiresAt;
  return Date.parse(candidate) > Date.parse(license.expiresAt) ? new Date(Date.parse(candidate)).toISOString() : license.expiresAt;
}

function addDays(iso: string, days: number): string {
  const base = Date.parse(iso);
  if (Number.isNaN(base)) throw new Error(`not a date: ${iso}`);
  return new Date(base + days * 86_400_000).toISOString();
}

/** History detail marking a revocation that a reinstate may undo (a dispute). */
const REVERSIBLE = 'reversible (dispute)';

function lastRevokeWasReversible(license: License): boolean {
  const last = [...license.history].reverse().find((h) => h.action === 'revoke');
  return last?.detail === REVERSIBLE;
}

function entry(event: FulfillmentEvent, action: HistoryEntry['action'], detail?: string): HistoryEntry {
  return { at: event.occurredAt, eventId: event.eventId, action, reason: event.reason, ...(detail ? { detail } : {}) };
}

/** The catalog product of a license; one removed from the catalog after issue gets defaults. */
export function productOf(catalog: Catalog, license: License): Product {
  return (
    catalog.products[license.product] ?? {
      name: license.productName,
      match: {},
      license: { format: license.format, perUnit: true, seats: 'quantity', duration: 'perpetual' },
      email: { subject: 'Your {product} license', intro: 'Here is your license:', instructions: '', notifyRevoke: false, notifyRenew: false },
    }
  );
}

function notifies(ctx: ApplyContext, state: Entitlement, flag: 'notifyRevoke' | 'notifyRenew'): boolean {
  return state.licenses.some((l) => productOf(ctx.catalog, l).email[flag]);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** When a license stops being valid: its own expiry or a scheduled end of its subscription, whichever is first. */
export function effectiveExpiry(license: License, state?: Pick<Entitlement, 'subscription'>): string | null {
  const ends = state?.subscription?.endsAt ?? null;
  if (ends === null) return license.expiresAt;
  if (license.expiresAt === null) return ends;
  return Date.parse(ends) < Date.parse(license.expiresAt) ? ends : license.expiresAt;
}

/** What a support tool shows: `expired` is derived from the clock, never stored. */
export function effectiveStatus(license: License, now: Date, state?: Pick<Entitlement, 'subscription'>): LicenseStatus | 'expired' {
  const expiry = effectiveExpiry(license, state);
  if (license.status === 'active' && expiry !== null && Date.parse(expiry) <= now.getTime()) return 'expired';
  return license.status;
}
