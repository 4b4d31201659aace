import type { Catalog } from '../../domain/catalog';
import type { FulfillmentEvent } from '../../domain/events';
import { catalogNames } from '../shared/catalog';
import { isoTime, parseTime, parseWith } from '../shared/json';
import type { CustomerLookup } from './customer';
import { PROVIDER } from './names';
import { adjustmentSchema, type PaddleAdjustment, type PaddleBillingEnvelope, type PaddleSubscription, type PaddleTransaction, subscriptionSchema, transactionSchema } from './schema';

/**
 * Paddle Billing notifications → canonical events (docs/providers/paddle-billing.md has the reasons).
 *
 * | event                                   | action                                          | scope                 |
 * |-----------------------------------------|-------------------------------------------------|-----------------------|
 * | transaction.completed, origin web / api | grant                                           | subscription, else transaction |
 * | transaction.completed, subscription_recurring | extend to billing_period.ends_at          | subscription          |
 * | transaction.completed, other subscription origins | record (plan changes come as subscription.updated) | subscription |
 * | subscription.activated, .resumed        | reinstate (lifts a past-due/pause suspension)   | subscription          |
 * | subscription.past_due, .paused          | suspend                                         | subscription          |
 * | subscription.canceled                   | revoke (final)                                  | subscription          |
 * | subscription.updated                    | change to the first item (plan, quantity), then by status: suspend (past_due, paused), revoke at scheduled_change.effective_at (cancel scheduled), revoke (canceled), else reinstate | subscription |
 * | subscription.created, .trialing, .imported | record                                       | subscription          |
 * | adjustment.* refund, approved, full     | revoke (final)                                  | subscription, else transaction |
 * | adjustment.* chargeback, approved       | revoke, hold `disputed` (reversible)            |                       |
 * | adjustment.* chargeback_reverse, approved | reinstate, lifts `disputed`                   |                       |
 * | adjustment.* anything else (pending, rejected, partial, credit, warnings) | record        |                       |
 * | any other event type (customer.*, address.*, …) | nothing (200, ignored)                  |                       |
 *
 * The order id (`keysmith licenses --order`) is the transaction id (`txn_…`); a subscription's
 * entitlement is also found by its first transaction, and by the subscription id itself.
 */

export const HANDLED_TYPES = [
  'transaction.completed',
  'subscription.created',
  'subscription.activated',
  'subscription.updated',
  'subscription.canceled',
  'subscription.past_due',
  'subscription.paused',
  'subscription.resumed',
  'subscription.trialing',
  'subscription.imported',
  'adjustment.created',
  'adjustment.updated',
] as const;

/** `custom_data` keys read for the customer's address and name (set with Paddle.js `customData`). */
export const EMAIL_KEYS = ['email', 'customer_email'] as const;
export const NAME_KEYS = ['name', 'customer_name'] as const;

type Base = Pick<FulfillmentEvent, 'provider' | 'eventId' | 'occurredAt' | 'reason' | 'live'>;

export interface NormalizeInput {
  envelope: PaddleBillingEnvelope;
  live: boolean;
  /** What the optional API lookup found about a transaction's customer. */
  customer?: CustomerLookup;
}

export function normalizeNotification(input: NormalizeInput, catalog: Catalog, receivedAt: Date): FulfillmentEvent[] {
  const { envelope, live } = input;
  const base: Base = { provider: PROVIDER, eventId: envelope.event_id, occurredAt: isoTime(envelope.occurred_at, receivedAt), reason: envelope.event_type, live };
  switch (envelope.event_type) {
    case 'transaction.completed':
      return [transactionCompleted(base, parseWith(transactionSchema, envelope.data), catalog, input.customer)];
    case 'subscription.created':
    case 'subscription.trialing':
    case 'subscription.imported':
    case 'subscription.activated':
    case 'subscription.resumed':
    case 'subscription.past_due':
    case 'subscription.paused':
    case 'subscription.canceled':
    case 'subscription.updated':
      return subscriptionEvent(base, parseWith(subscriptionSchema, envelope.data), catalog);
    case 'adjustment.created':
    case 'adjustment.updated':
      return [adjustment(base, parseWith(adjustmentSchema, envelope.data))];
    default:
      return [];
  }
}

/** The email a transaction names itself, in `custom_data`; undefined when it names none. */
export function customDataContact(customData: Record<string, unknown> | null | undefined): { email?: string; name?: string } {
  const pick = (keys: readonly string[]) => {
    for (const key of keys) {
      const value = customData?.[key];
      if (typeof value === 'string' && value.trim() !== '') return value.trim();
    }
    return undefined;
  };
  const email = pick(EMAIL_KEYS);
  const name = pick(NAME_KEYS);
  return { ...(email ? { email } : {}), ...(name ? { name } : {}) };
}

function transactionCompleted(base: Base, txn: PaddleTransaction, catalog: Catalog, lookup: CustomerLookup | undefined): FulfillmentEvent {
  const named = customDataContact(txn.custom_data);
  const found = lookup?.customer;
  const email = named.email ?? found?.email ?? '';
  const name = named.name ?? found?.name;
  const customer = { email, ...(name ? { name } : {}), ...(found?.locale ? { locale: found.locale } : {}) };
  const productNames = new Map<string, string>();
  for (const line of txn.details?.line_items ?? []) if (line.price_id && line.product?.name) productNames.set(line.price_id, line.product.name);
  const items = txn.items.map((item) => {
    const displayName = productNames.get(item.price.id) ?? item.price.name ?? undefined;
    return {
      productId: catalogProductId(catalog, item.price.product_id ?? undefined, item.price.id),
      sku: item.price.id,
      quantity: item.quantity,
      ...(displayName ? { name: displayName } : {}),
    };
  });
  const subscriptionId = txn.subscription_id ?? undefined;
  const periodEnd = parseTime(txn.billing_period?.ends_at ?? undefined);
  const common = {
    ...base,
    scope: subscriptionId ?? txn.id,
    orderId: txn.id,
    customer,
    ...(subscriptionId ? { subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) } } : {}),
  };
  switch (txn.origin) {
    case 'subscription_recurring':
      return { ...common, businessKey: `extend#${txn.id}`, action: 'extend', items: [] };
    case 'subscription_update':
    case 'subscription_payment_method_change':
    case 'subscription_charge':
      return { ...common, action: 'record', items: [] };
    default:
      // web (checkout), api, or none: a purchase — the first transaction of a subscription too.
      return { ...common, businessKey: `grant#${txn.id}`, action: 'grant', items };
  }
}

function subscriptionEvent(base: Base, sub: PaddleSubscription, catalog: Catalog): FulfillmentEvent[] {
  const periodEnd = parseTime(sub.current_billing_period?.ends_at ?? undefined);
  const named = customDataContact(sub.custom_data);
  const common = {
    ...base,
    scope: sub.id,
    ...(sub.transaction_id ? { orderId: sub.transaction_id } : {}),
    customer: { email: named.email ?? '', ...(named.name ? { name: named.name } : {}) },
    items: [],
    subscription: { id: sub.id, ...(periodEnd ? { periodEnd } : {}) },
  };
  switch (base.reason) {
    case 'subscription.activated':
    case 'subscription.resumed':
      return [{ ...common, action: 'reinstate' }];
    case 'subscription.past_due':
    case 'subscription.paused':
      return [{ ...common, action: 'suspend' }];
    case 'subscription.canceled':
      return [{ ...common, action: 'revoke' }];
    case 'subscription.updated':
      return subscriptionUpdated(common, sub, catalog);
    default:
      return [{ ...common, action: 'record' }];
  }
}

/**
 * Paddle says what a subscription is now, not what changed: each update is mapped to the state it
 * describes, and every step is idempotent (a change to the product and seats the licenses already
 * have changes nothing; a hold already in place is "no change").
 */
function subscriptionUpdated(common: Omit<FulfillmentEvent, 'action'>, sub: PaddleSubscription, catalog: Catalog): FulfillmentEvent[] {
  const events: Omit<FulfillmentEvent, 'eventId'>[] = [];
  // keysmith moves a subscription's licenses to one product: the first item is the plan.
  const item = sub.items[0];
  if (item) {
    const displayName = item.product?.name ?? item.price.name ?? undefined;
    const productId = catalogProductId(catalog, item.price.product_id ?? item.product?.id ?? undefined, item.price.id);
    events.push({ ...common, action: 'change', items: [{ productId, sku: item.price.id, quantity: item.quantity, ...(displayName ? { name: displayName } : {}) }] });
  }
  const cancelAt = sub.scheduled_change?.action === 'cancel' ? parseTime(sub.scheduled_change.effective_at ?? undefined) : undefined;
  if (sub.status === 'past_due' || sub.status === 'paused') events.push({ ...common, action: 'suspend' });
  else if (sub.status === 'canceled') events.push({ ...common, action: 'revoke' });
  else if (cancelAt) events.push({ ...common, action: 'revoke', effectiveAt: cancelAt });
  else events.push({ ...common, action: 'reinstate' });
  return events.map((event, index) => ({ ...event, eventId: index === 0 ? common.eventId : `${common.eventId}#${event.action}` }));
}

function adjustment(base: Base, adj: PaddleAdjustment): FulfillmentEvent {
  const common = {
    ...base,
    businessKey: `adjustment#${adj.id}#${adj.action}#${adj.status}`,
    scope: adj.subscription_id ?? adj.transaction_id,
    orderId: adj.transaction_id,
    customer: { email: '' },
    items: [],
    ...(adj.subscription_id ? { subscription: { id: adj.subscription_id } } : {}),
  };
  const approved = adj.status === 'approved';
  if (approved && adj.action === 'refund' && adj.type === 'full') return { ...common, action: 'revoke' };
  // Paddle fights a chargeback itself; chargeback_reverse says it won the money back.
  if (approved && adj.action === 'chargeback') return { ...common, action: 'revoke', hold: 'disputed' };
  if (approved && adj.action === 'chargeback_reverse') return { ...common, action: 'reinstate', hold: 'disputed' };
  return { ...common, action: 'record' };
}

/** The price id when a catalog product lists it (tiers as prices of one product), else the product id. */
export function catalogProductId(catalog: Catalog, productId: string | undefined, priceId: string): string {
  if (catalogNames(catalog, PROVIDER, priceId)) return priceId;
  return productId ?? priceId;
}
