import type { Action, FulfillmentEvent } from '../../domain/events';
import { WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { isoTime, parseTime, parseWith } from '../shared/json';
import { orderSchema, type PolarEnvelope, type PolarOrder, type PolarSubscription, refundSchema, subscriptionSchema } from './schema';

/**
 * Polar events → canonical events (docs/providers/polar.md).
 *
 * | event                      | condition                               | action                      |
 * |----------------------------|-----------------------------------------|-----------------------------|
 * | order.paid                 | billing_reason purchase / subscription_create | grant                 |
 * | order.paid                 | billing_reason subscription_cycle       | extend to the period end    |
 * | order.paid                 | subscription_update (proration) / other | record                      |
 * | order.refunded             | status `refunded` (full)                | revoke (final)              |
 * | order.refunded             | `partially_refunded`                    | record                      |
 * | subscription.active        |                                         | reinstate (a payment recovered, a cancelled one re-activated) |
 * | subscription.canceled      |                                         | revoke at `ends_at` (period-end hold) |
 * | subscription.uncanceled    |                                         | reinstate                   |
 * | subscription.revoked       |                                         | revoke (final)              |
 * | order.created/updated, subscription.created/updated/past_due, refund.* | | record       |
 * | anything else (checkout.*, customer.*, benefit*, product.*, …) |   | ignored (200, no event) |
 *
 * Scope: a subscription's entitlement is the subscription (its id), whatever order started it:
 * every `subscription.*` event names it, and every order of a subscription carries
 * `subscription_id`, so all of them land on one entitlement and one FIFO group, in order. The
 * first order's id is the entitlement's `orderId`, so `keysmith licenses --order <order id>`
 * still finds it. A one-time purchase is scoped by its order id.
 *
 * Event identity: `webhook-id`, Polar's id of the event (the same on every retry).
 */

const ORDER_TYPES = new Set(['order.created', 'order.paid', 'order.updated', 'order.refunded']);
const SUBSCRIPTION_TYPES = new Set([
  'subscription.created',
  'subscription.active',
  'subscription.updated',
  'subscription.canceled',
  'subscription.uncanceled',
  'subscription.revoked',
  'subscription.past_due',
]);
const REFUND_TYPES = new Set(['refund.created', 'refund.updated']);

/** Whether keysmith maps (or at least records) this event type. */
export function mapsType(type: string): boolean {
  return ORDER_TYPES.has(type) || SUBSCRIPTION_TYPES.has(type) || REFUND_TYPES.has(type);
}

/** A verified delivery: the event, and the `webhook-id` it was signed with (its identity). */
export interface PolarDelivery {
  envelope: PolarEnvelope;
  webhookId: string;
}

export function normalizePolar({ envelope, webhookId: eventId }: PolarDelivery, request: WebhookRequest): FulfillmentEvent | undefined {
  if (!mapsType(envelope.type)) return undefined;
  const base = {
    provider: 'polar' as const,
    eventId,
    occurredAt: isoTime(envelope.timestamp, request.receivedAt),
    reason: envelope.type,
    // Polar's payloads carry no test flag: the sandbox (sandbox.polar.sh) is a separate
    // environment with its own endpoints and secrets. See docs/providers/polar.md.
    live: true,
  };
  if (ORDER_TYPES.has(envelope.type)) return orderEvent(base, envelope.type, parseWith(orderSchema, envelope.data));
  if (SUBSCRIPTION_TYPES.has(envelope.type)) return subscriptionEvent(base, envelope.type, parseWith(subscriptionSchema, envelope.data));
  const refund = parseWith(refundSchema, envelope.data);
  return { ...base, action: 'record', scope: refund.subscription_id ?? refund.order_id ?? `refund:${refund.id}`, customer: { email: '' }, items: [] };
}

type Base = Pick<FulfillmentEvent, 'provider' | 'eventId' | 'occurredAt' | 'reason' | 'live'>;

function orderEvent(base: Base, type: string, order: PolarOrder): FulfillmentEvent {
  const reason = order.billing_reason.trim().toLowerCase();
  const productId = order.product_id ?? order.product?.id;
  let action: Action = 'record';
  if (type === 'order.paid') {
    if ((reason === 'purchase' || reason === 'subscription_create') && productId) action = 'grant';
    else if (reason === 'subscription_cycle') action = 'extend';
  }
  // `refunded` only when the whole order is refunded; a partial refund is recorded.
  if (type === 'order.refunded' && order.status.trim().toLowerCase() === 'refunded') action = 'revoke';
  if (action !== 'record' && reason !== 'purchase' && !order.subscription_id) {
    throw new WebhookRejection('MALFORMED', `data.subscription_id: is required for an order with billing_reason ${reason}`);
  }
  const subscriptionId = order.subscription_id ?? undefined;
  const periodEnd = parseTime(order.subscription?.current_period_end);
  const name = order.product?.name?.trim();
  return {
    ...base,
    // A grant or renewal is about its order, whatever else changed on it: once per order.
    ...(action === 'grant' || action === 'extend' ? { businessKey: `${action}#${order.id}` } : {}),
    action,
    scope: subscriptionId ?? order.id,
    orderId: order.id,
    customer: customerOf(order.customer),
    items: action === 'grant' && productId ? [{ productId, quantity: order.seats ?? 1, ...(name ? { name: name.slice(0, 200) } : {}) }] : [],
    ...(subscriptionId ? { subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) } } : {}),
  };
}

function subscriptionEvent(base: Base, type: string, sub: PolarSubscription): FulfillmentEvent {
  let action: Action = 'record';
  let effectiveAt: string | undefined;
  switch (type) {
    case 'subscription.active':
    case 'subscription.uncanceled':
      action = 'reinstate';
      break;
    case 'subscription.canceled':
      action = 'revoke';
      // "Customers might still have access until the end of the current period" (Polar): a
      // cancellation at the period end keeps the licenses until then; one that already ended is
      // final (subscription.revoked follows it).
      effectiveAt = parseTime(sub.ends_at) ?? (sub.cancel_at_period_end ? parseTime(sub.current_period_end) : undefined);
      if (sub.ended_at) effectiveAt = undefined;
      break;
    case 'subscription.revoked':
      action = 'revoke';
      break;
  }
  const periodEnd = parseTime(sub.current_period_end);
  return {
    ...base,
    action,
    scope: sub.id,
    customer: customerOf(sub.customer),
    items: [],
    subscription: { id: sub.id, ...(periodEnd ? { periodEnd } : {}) },
    ...(effectiveAt ? { effectiveAt } : {}),
  };
}

function customerOf(customer: { email?: string | null; name?: string | null; locale?: string | null }): FulfillmentEvent['customer'] {
  const name = customer.name?.trim();
  const locale = customer.locale?.trim();
  return {
    email: customer.email?.trim() ?? '',
    ...(name ? { name: name.slice(0, 200) } : {}),
    ...(locale ? { locale: locale.slice(0, 35) } : {}),
  };
}
