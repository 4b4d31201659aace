import { sendsLicenseEmail } from './catalog';
import type { AppliedEvent, ApplyContext, Entitlement, License, LicenseChange } from './entitlement';
import { holdsOn, productOf, refreshStatuses } from './entitlement';
import type { Action, FulfillmentEvent } from './events';
import { extendedExpiry } from './expiry';
import { addHold, type Hold, type HoldKind, liftHolds, RENEWAL_LIFTS, reinstateLifts, revokeHold, statusFromHolds, suspendHold } from './holds';
import { issueUnits, type Line, renderKey, resolveLine } from './issuing';

/**
 * One small unit per lifecycle action. Each changes the state in place and says on `applied`
 * what it changed (`changes`), which licenses its email shows and whether one is owed. Statuses
 * are recomputed from the holds afterwards (`refreshStatuses`), never set here.
 */

type Step = (state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, applied: AppliedEvent) => void;

export const LIFECYCLE: Record<Action, Step> = {
  grant(state, event, ctx, applied) {
    if (event.subscription) state.subscription = { ...state.subscription, ...event.subscription };
    const created: License[] = [];
    for (const item of event.items) {
      const line = resolveLine(ctx, event, item, applied);
      if (line) created.push(...issueUnits(state, event, ctx, line, applied));
    }
    if (created.length === 0) return;
    refreshStatuses(state);
    applied.lookups = 'pending';
    applied.licenseIds = created.map((l) => l.licenseId);
    change(applied, { licenses: applied.licenseIds, what: 'issued' });
    // A hold that arrived first (a refund before its purchase, after a redrive) still wins: only
    // licenses that are active now are emailed.
    const emailed = created.filter((l) => l.status === 'active' && sendsLicenseEmail(productOf(ctx.catalog, l), event.provider));
    if (emailed.length > 0 && event.customer.email) applied.email = { kind: 'license', status: 'pending' };
  },

  revoke(state, event, ctx, applied) {
    const kind = revokeHold(event);
    const before = activeIds(state);
    const hold = holdFor(event, applied, kind);
    setHold(state, event, hold, applied);
    refreshStatuses(state);
    const stopped = [...before].filter((id) => !activeIds(state).has(id));
    if (stopped.length > 0) applied.licenseIds = stopped;
    if (stopped.length > 0 && notifies(ctx, state, 'notifyRevoke') && event.customer.email) applied.email = { kind: 'revoked', status: 'pending' };
  },

  suspend(state, event, _ctx, applied) {
    setHold(state, event, holdFor(event, applied, suspendHold(event)), applied);
  },

  reinstate(state, event, _ctx, applied) {
    lift(state, event, reinstateLifts(event), applied);
  },

  extend(state, event, ctx, applied) {
    const periodEnd = event.subscription?.periodEnd;
    if (event.subscription) state.subscription = { ...state.subscription, ...event.subscription };
    // A renewal means the subscription goes on: a scheduled end is lifted.
    liftEverywhere(state, RENEWAL_LIFTS, applied);
    const extended = new Map<string, string[]>();
    let resigned = false;
    for (const license of state.licenses) {
      if (isFinal(state, license)) continue;
      const next = extendedExpiry(license.expiresAt, productOf(ctx.catalog, license), periodEnd);
      if (next === license.expiresAt) continue;
      const detail = `${license.expiresAt ?? 'perpetual'} → ${next ?? 'perpetual'}`;
      extended.set(detail, [...(extended.get(detail) ?? []), license.licenseId]);
      license.expiresAt = next;
      (applied.licenseIds ??= []).push(license.licenseId);
      if (license.format === 'signed') {
        // The token carries its expiry: a renewal is a new token, so the customer must get it.
        license.key = renderKey(license, state, ctx);
        resigned = true;
      }
    }
    for (const [detail, ids] of extended) change(applied, { licenses: ids.length === state.licenses.length ? 'all' : ids, what: 'extended', detail });
    if (resigned) applied.lookups = 'pending';
    const notify = resigned || notifies(ctx, state, 'notifyRenew');
    if (extended.size > 0 && notify && state.customer.email) applied.email = { kind: 'renewed', status: 'pending' };
  },

  change(state, event, ctx, applied) {
    if (event.subscription) state.subscription = { ...state.subscription, ...event.subscription };
    for (const item of event.items) {
      const line = resolveLine(ctx, event, item, applied);
      if (line) changeTo(state, event, ctx, line, applied);
    }
  },

  record(state, event, _ctx, applied) {
    // Recorded, nothing else changes — unless support asked to resend the licenses.
    if (!event.resendEmail) return;
    const active = selectLicenses(state, event).filter((l) => l.status === 'active');
    if (active.length > 0 && state.customer.email) {
      applied.licenseIds = active.map((l) => l.licenseId);
      applied.email = { kind: 'license', status: 'pending' };
    }
  },
};

/** Plan or quantity change: licenses move to the new product; seats follow the quantity. */
function changeTo(state: Entitlement, event: FulfillmentEvent, ctx: ApplyContext, line: Line, applied: AppliedEvent): void {
  const { productId, product, providerProductId, quantity } = line;
  const live = state.licenses.filter((l) => !isFinal(state, l));
  const moved = live.filter((l) => l.product !== productId || l.providerProductId !== providerProductId);
  for (const license of moved) {
    license.product = productId;
    license.productName = product.name;
    license.format = product.license.format;
  }
  if (moved.length > 0) change(applied, { licenses: moved.map((l) => l.licenseId), what: 'changed', detail: `product → ${productId}` });
  const policy = product.license;
  if (!policy.perUnit) {
    const seats = policy.seats === 'quantity' ? quantity : policy.seats;
    const reseated = live.filter((l) => l.seats !== seats);
    for (const license of reseated) license.seats = seats;
    if (reseated.length > 0) change(applied, { licenses: reseated.map((l) => l.licenseId), what: 'changed', detail: `seats → ${seats}` });
    if (live.length === 0 && quantity > 0) {
      const created = issueUnits(state, event, ctx, line, applied);
      if (created.length > 0) change(applied, { licenses: created.map((l) => l.licenseId), what: 'issued' });
    }
  } else if (live.length < quantity) {
    const created = issueUnits(state, event, ctx, { ...line, quantity: quantity - live.length }, applied);
    if (created.length > 0) {
      applied.licenseIds = created.map((l) => l.licenseId);
      change(applied, { licenses: applied.licenseIds, what: 'issued' });
      refreshStatuses(state);
      if (sendsLicenseEmail(product, event.provider) && state.customer.email && created.some((l) => l.status === 'active')) applied.email = { kind: 'license', status: 'pending' };
    }
  } else if (live.length > quantity) {
    // Fewer units: the newest ones go, for good.
    const dropped = [...live].sort((a, b) => b.unit - a.unit).slice(0, live.length - quantity);
    const hold = holdFor(event, applied, 'revoked');
    for (const license of dropped) addHold((license.holds ??= []), { ...hold });
    change(applied, { licenses: dropped.map((l) => l.licenseId), what: 'hold', hold: 'revoked', detail: 'quantity reduced' });
  }
  // A signed token carries product and seats: re-sign so it states the current terms.
  for (const license of live) {
    if (license.format === 'signed' || license.key.split('.').length === 3) license.key = renderKey(license, state, ctx);
  }
  if (state.licenses.length > 0) applied.lookups = 'pending';
}

/** The hold an event sets: order-wide holds keep the event's id and reason, a license's own only its `seq`. */
function holdFor(event: FulfillmentEvent, applied: AppliedEvent, kind: HoldKind): Hold {
  return { kind, seq: applied.seq, at: event.occurredAt, ...(kind === 'period-end' && event.effectiveAt !== undefined ? { until: event.effectiveAt } : {}) };
}

/** Put the hold where the event aims it: the order (no items, no targets) or the licenses it names. */
function setHold(state: Entitlement, event: FulfillmentEvent, hold: Hold, applied: AppliedEvent): void {
  // A return or refund naming items that arrives before its purchase (a redrive, another FIFO
  // group) matches no license yet: it holds the whole order, so the late grant issues nothing
  // usable. Over-holding a unit is recoverable by the seller; under-holding gives away a refund.
  const beforePurchase = !event.targets && event.items.length > 0 && selectLicenses(state, event).length === 0;
  if (aimsAtOrder(event) || beforePurchase) {
    const set = addHold(state.holds, { ...hold, eventId: event.eventId, reason: event.reason });
    change(applied, set ? { licenses: 'all', what: 'hold', hold: hold.kind } : { licenses: 'all', what: 'no change', hold: hold.kind, detail: 'already held' });
    return;
  }
  const targets = selectLicenses(state, event);
  const set = targets.filter((license) => addHold((license.holds ??= []), { ...hold }));
  for (const license of targets) if (license.holds?.length === 0) delete license.holds;
  change(applied, set.length > 0 ? { licenses: set.map((l) => l.licenseId), what: 'hold', hold: hold.kind } : { licenses: targets.map((l) => l.licenseId), what: 'no change', hold: hold.kind });
}

/** Lift holds of these kinds where the event aims; lifting nothing is recorded as "no change". */
function lift(state: Entitlement, event: FulfillmentEvent, kinds: readonly HoldKind[], applied: AppliedEvent): void {
  const targets = aimsAtOrder(event) ? 'all' : selectLicenses(state, event);
  if (targets === 'all') liftEverywhere(state, kinds, applied);
  else liftFrom(targets, kinds, applied);
  if (!applied.changes?.some((c) => c.what === 'lifted')) {
    change(applied, { licenses: targets === 'all' ? 'all' : targets.map((l) => l.licenseId), what: 'no change', detail: `no ${kinds.join(' or ')} hold to lift` });
  }
}

function liftEverywhere(state: Entitlement, kinds: readonly HoldKind[], applied: AppliedEvent): void {
  for (const kind of liftHolds(state.holds, kinds)) change(applied, { licenses: 'all', what: 'lifted', hold: kind });
  liftFrom(state.licenses, kinds, applied);
}

function liftFrom(licenses: License[], kinds: readonly HoldKind[], applied: AppliedEvent): void {
  const byKind = new Map<HoldKind, string[]>();
  for (const license of licenses) {
    if (!license.holds) continue;
    for (const kind of liftHolds(license.holds, kinds)) byKind.set(kind, [...(byKind.get(kind) ?? []), license.licenseId]);
    if (license.holds.length === 0) delete license.holds;
  }
  for (const [kind, ids] of byKind) change(applied, { licenses: ids, what: 'lifted', hold: kind });
}

function aimsAtOrder(event: FulfillmentEvent): boolean {
  return !event.targets && event.items.length === 0;
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

function isFinal(state: Entitlement, license: License): boolean {
  return statusFromHolds(holdsOn(state, license)) === 'revoked';
}

function activeIds(state: Entitlement): Set<string> {
  return new Set(state.licenses.filter((l) => l.status === 'active').map((l) => l.licenseId));
}

function notifies(ctx: ApplyContext, state: Entitlement, flag: 'notifyRevoke' | 'notifyRenew'): boolean {
  return state.licenses.some((l) => productOf(ctx.catalog, l).email[flag]);
}

function change(applied: AppliedEvent, entry: LicenseChange): void {
  (applied.changes ??= []).push(entry);
}
