import type { Action, FulfillmentEvent } from '../../domain/events';
import { WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { isoTime, parseTime, parseWith } from '../shared/json';
import { type FastSpringEvent, type FastSpringOrder, orderSchema, returnSchema, subscriptionSchema } from './schema';

/**
 * FastSpring events → canonical events.
 *
 * | event                          | action    | scope                                   |
 * |--------------------------------|-----------|-----------------------------------------|
 * | order.completed                | grant     | order id                                |
 * | subscription.activated         | change    | initial order (or subscription) id      |
 * | subscription.charge.completed  | extend    | initial order (or subscription) id      |
 * | subscription.canceled          | revoke at the period end (effectiveAt)              |
 * | subscription.uncanceled        | reinstate (undoes the scheduled end)                |
 * | subscription.deactivated       | revoke    |                                         |
 * | return.created                 | revoke the returned items (all when none named)     |
 * | anything else                  | record    | order id, else the event's own id       |
 *
 * Subscription events name the subscription; when FastSpring also names its initial order, the
 * event lands on the order's entitlement (same FIFO group). Otherwise the worker follows the
 * subscription link written when the order was granted.
 */

export function normalizeEvent(event: FastSpringEvent, request: WebhookRequest): FulfillmentEvent {
  const data = event.data as Record<string, unknown>;
  const base = {
    provider: 'fastspring' as const,
    eventId: event.id,
    occurredAt: isoTime(event.created, request.receivedAt),
    reason: event.type,
    live: event.live ?? (typeof data.live === 'boolean' ? data.live : false),
  };
  switch (event.type) {
    case 'order.completed':
      return orderCompleted(base, parseWith(orderSchema, data));
    case 'subscription.activated':
    case 'subscription.charge.completed':
    case 'subscription.canceled':
    case 'subscription.uncanceled':
    case 'subscription.deactivated':
      return subscriptionEvent(base, event.type, data);
    case 'return.created':
      return returnCreated(base, data);
    default:
      return {
        ...base,
        action: 'record',
        scope: idOf(data.order) ?? idOf(data.id) ?? event.id,
        customer: { email: contactOf(data)?.email ?? '' },
        items: [],
      };
  }
}

type Base = Pick<FulfillmentEvent, 'provider' | 'eventId' | 'occurredAt' | 'reason' | 'live'>;

function orderCompleted(base: Base, order: FastSpringOrder): FulfillmentEvent {
  const subscribed = order.items.find((item) => item.subscription);
  const subscription = subscribed?.subscription;
  const subscriptionId = idOf(subscription);
  const periodEnd = typeof subscription === 'object' && subscription ? parseTime(subscription.nextChargeDate ?? subscription.next) : undefined;
  return {
    ...base,
    // Manual resends from the FastSpring dashboard carry a new event id but the same order.
    businessKey: `order.completed#${order.id}`,
    action: 'grant',
    scope: order.id,
    ...(order.reference ? { reference: order.reference } : {}),
    customer: customerOf(order as Record<string, unknown>, order.language),
    items: order.items.map((item) => ({
      productId: idOf(item.product) ?? '',
      quantity: item.quantity,
      ...(item.sku ? { sku: item.sku } : {}),
      ...(item.display ? { name: item.display } : {}),
    })),
    ...(subscriptionId ? { subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) } } : {}),
  };
}

const SUBSCRIPTION_ACTIONS: Record<string, Action> = {
  'subscription.activated': 'change',
  'subscription.charge.completed': 'extend',
  'subscription.canceled': 'revoke',
  'subscription.uncanceled': 'reinstate',
  'subscription.deactivated': 'revoke',
};

function subscriptionEvent(base: Base, type: string, data: Record<string, unknown>): FulfillmentEvent {
  // charge.completed wraps the subscription (and the rebill order); the others are the subscription.
  const charge = type === 'subscription.charge.completed';
  const raw = charge ? data.subscription : data;
  const subscription = typeof raw === 'object' && raw !== null ? parseWith(subscriptionSchema, raw) : undefined;
  const subscriptionId = charge ? idOf(data.subscription) : (idOf(data.id) ?? idOf(data.subscription));
  if (!subscriptionId) throw new WebhookRejection('MALFORMED', `${type}: the subscription id is missing`);
  const periodEnd = parseTime(subscription?.nextChargeDate ?? subscription?.next ?? data.nextChargeDate ?? data.next);
  const scope = subscription?.initialOrderId ?? subscriptionId;
  const action = SUBSCRIPTION_ACTIONS[type]!;
  const event: FulfillmentEvent = {
    ...base,
    action,
    scope,
    customer: customerOf(charge ? ((data.order as Record<string, unknown>) ?? data) : data),
    items: [],
    subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) },
  };
  if (charge) {
    // Each rebill is its own order; a manual resend of the same charge must not extend twice.
    const rebill = idOf(data.order);
    if (rebill) event.businessKey = `subscription.charge.completed#${rebill}`;
  }
  if (type === 'subscription.canceled') {
    // Scheduled: access continues until the paid period ends.
    const end = parseTime(subscription?.deactivationDate ?? data.deactivationDate) ?? periodEnd;
    if (!end) return { ...event, action: 'record' };
    event.effectiveAt = end;
  }
  return event;
}

function returnCreated(base: Base, data: Record<string, unknown>): FulfillmentEvent {
  const ret = parseWith(returnSchema, data);
  const orderId = idOf(ret.original) ?? idOf(ret.order);
  if (!orderId) throw new WebhookRejection('MALFORMED', 'return.created: the returned order is missing');
  const fullReturn = ret.items === undefined || ret.items.length === 0;
  return {
    ...base,
    businessKey: `return.created#${idOf(ret.return) ?? idOf(ret.id) ?? base.eventId}`,
    action: 'revoke',
    scope: orderId,
    customer: customerOf(data),
    items: fullReturn ? [] : ret.items!.map((item) => ({ productId: idOf(item.product) ?? '', quantity: item.quantity ?? 1 })),
  };
}

interface Contact {
  email?: string | null;
  first?: string | null;
  last?: string | null;
  company?: string | null;
}

function customerOf(data: Record<string, unknown>, language?: string | null): FulfillmentEvent['customer'] {
  const contact = contactOf(data);
  const name = [contact?.first, contact?.last].filter((p) => typeof p === 'string' && p.trim() !== '').join(' ');
  return {
    email: contact?.email ?? '',
    ...(name ? { name } : {}),
    ...(contact?.company ? { company: contact.company } : {}),
    ...(language ? { locale: language } : {}),
  };
}

/** The buyer: `customer` on orders, else the expanded account's contact. */
function contactOf(data: Record<string, unknown>): Contact | undefined {
  const customer = data.customer as Contact | undefined | null;
  if (customer && typeof customer === 'object' && customer.email) return customer;
  const account = data.account as { contact?: Contact } | string | undefined | null;
  if (account && typeof account === 'object' && account.contact?.email) return account.contact;
  return undefined;
}

/** An id given as a string (expansion off) or inside an object (expansion on). */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of ['id', 'product', 'subscription', 'order', 'return']) {
      if (typeof object[key] === 'string' && (object[key] as string).length > 0) return object[key] as string;
    }
  }
  return undefined;
}
