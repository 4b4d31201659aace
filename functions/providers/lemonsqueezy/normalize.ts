import type { Catalog } from '../../domain/catalog';
import type { Action, FulfillmentEvent } from '../../domain/events';
import type { WebhookRequest } from '../../ingress/types';
import { catalogNames } from '../shared/catalog';
import { isoTime, parseTime, parseWith } from '../shared/json';
import { invoiceSchema, type LemonSqueezyEnvelope, type LemonSqueezyInvoice, type LemonSqueezyOrder, type LemonSqueezySubscription, orderSchema, subscriptionSchema } from './schema';

/**
 * Lemon Squeezy events → canonical events (docs/providers/lemonsqueezy.md).
 *
 * | event                              | condition                  | action                      |
 * |------------------------------------|----------------------------|-----------------------------|
 * | order_created                      | status `paid`              | grant                       |
 * | order_refunded                     | fully refunded             | revoke (final)              |
 * | order_refunded                     | `partial_refund`           | record                      |
 * | subscription_created               |                            | extend to `renews_at`       |
 * | subscription_updated               | active / on_trial, not cancelled | extend to `renews_at` |
 * | subscription_updated               | cancelled / expired        | as subscription_cancelled / _expired |
 * | subscription_cancelled             |                            | revoke at `ends_at` (period-end hold) |
 * | subscription_resumed / _unpaused   |                            | reinstate                   |
 * | subscription_expired               |                            | revoke (final)              |
 * | subscription_paused                | pause mode `void`          | suspend                     |
 * | subscription_paused                | pause mode `free`          | record (access goes on)     |
 * | subscription_payment_refunded      | invoice `refunded` (full)  | revoke (final)              |
 * | subscription_payment_* and the rest|                            | record                      |
 *
 * Scope: the order id. An order is the entitlement, and every subscription object names the
 * order that started it (`order_id`), so subscription events land on the same entitlement and
 * FIFO group without a lookup. Subscription invoices name only their subscription: they are
 * scoped by it (the worker follows the subscription link when it knows one) and only recorded.
 *
 * Event identity: Lemon Squeezy sends no event id, and the same object comes back in several
 * events (an order in order_created and order_refunded; a subscription in every subscription_*
 * event). The id is `{event_name}:{data.type}:{data.id}:{updated_at}`: the event name says what
 * happened, `updated_at` tells a later change of the same kind (a second pause) from a retry.
 */

/** The data types keysmith maps; events about anything else (license keys, …) are ignored. */
export const MAPPED_TYPES = ['orders', 'subscriptions', 'subscription-invoices'] as const;

export function normalizeLemonSqueezy(envelope: LemonSqueezyEnvelope, request: WebhookRequest, catalog: Catalog): FulfillmentEvent | undefined {
  const { meta, data } = envelope;
  const dataId = idString(data.id);
  const updatedAt = data.attributes.updated_at ?? data.attributes.created_at ?? '';
  const base = {
    provider: 'lemonsqueezy' as const,
    eventId: `${meta.event_name}:${data.type}:${dataId}:${updatedAt}`.slice(0, 512),
    occurredAt: isoTime(data.attributes.updated_at ?? data.attributes.created_at, request.receivedAt),
    reason: meta.event_name.slice(0, 200),
    // The store's test mode: on the envelope (newer deliveries) or on the object itself.
    live: !(meta.test_mode ?? data.attributes.test_mode ?? false),
  };
  switch (data.type) {
    case 'orders':
      return orderEvent(base, meta.event_name, dataId, parseWith(orderSchema, data.attributes), catalog);
    case 'subscriptions':
      return subscriptionEvent(base, meta.event_name, dataId, parseWith(subscriptionSchema, data.attributes));
    case 'subscription-invoices':
      return invoiceEvent(base, meta.event_name, dataId, parseWith(invoiceSchema, data.attributes));
    default:
      return undefined;
  }
}

type Base = Pick<FulfillmentEvent, 'provider' | 'eventId' | 'occurredAt' | 'reason' | 'live'>;

function orderEvent(base: Base, eventName: string, orderId: string, order: LemonSqueezyOrder, catalog: Catalog): FulfillmentEvent {
  const status = order.status.trim().toLowerCase();
  let action: Action = 'record';
  if (eventName === 'order_created' && status === 'paid') action = 'grant';
  // `refunded` is true only for a full refund; a partial one leaves status `partial_refund`.
  if (eventName === 'order_refunded' && (status === 'refunded' || order.refunded === true)) action = 'revoke';
  const item = order.first_order_item;
  const name = [text(item.product_name), variantLabel(item.variant_name)].filter(Boolean).join(' – ');
  return {
    ...base,
    // A grant is about the order, whatever else changed on it: one grant per order.
    ...(action === 'grant' ? { businessKey: `grant#${orderId}` } : {}),
    action,
    scope: orderId,
    ...(order.identifier ? { reference: clip(order.identifier, 200) } : {}),
    customer: customerOf(order),
    // A refund takes the whole order back; the grant issues what was bought.
    items:
      action === 'revoke'
        ? []
        : [
            {
              productId: productIdOf(catalog, item.product_id, item.variant_id),
              quantity: item.quantity ?? 1,
              ...(item.variant_id !== undefined && item.variant_id !== null ? { sku: idString(item.variant_id) } : {}),
              ...(name ? { name: clip(name, 200) } : {}),
            },
          ],
  };
}

function subscriptionEvent(base: Base, eventName: string, subscriptionId: string, sub: LemonSqueezySubscription): FulfillmentEvent {
  const status = sub.status.trim().toLowerCase();
  const renewsAt = parseTime(sub.renews_at);
  const endsAt = parseTime(sub.ends_at);
  let action: Action = 'record';
  let effectiveAt: string | undefined;
  switch (eventName) {
    case 'subscription_created':
      action = 'extend';
      break;
    case 'subscription_updated':
      // Lemon Squeezy's catch-all, sent with every change: a renewal moves `renews_at`. It also
      // states where the subscription stands, so a cancellation or expiry it reports is applied
      // again (a no-op when its own event came first): the state converges even when an older
      // update overtook the cancellation on the way.
      if ((status === 'active' || status === 'on_trial') && sub.cancelled !== true) action = 'extend';
      else if (status === 'cancelled') {
        action = 'revoke';
        effectiveAt = endsAt ?? renewsAt;
      } else if (status === 'expired') action = 'revoke';
      break;
    case 'subscription_cancelled':
      action = 'revoke';
      // Lemon Squeezy keeps the subscription usable until `ends_at` (its grace period).
      effectiveAt = endsAt ?? renewsAt;
      break;
    case 'subscription_resumed':
    case 'subscription_unpaused':
      action = 'reinstate';
      break;
    case 'subscription_expired':
      action = 'revoke';
      break;
    case 'subscription_paused':
      // `free`: the seller lets the customer keep using it without paying; `void`: no access.
      action = text(sub.pause?.mode)?.toLowerCase() === 'free' ? 'record' : 'suspend';
      break;
  }
  const periodEnd = action === 'revoke' ? endsAt : renewsAt;
  return {
    ...base,
    action,
    scope: idString(sub.order_id),
    orderId: idString(sub.order_id),
    customer: customerOf(sub),
    items: [],
    subscription: { id: subscriptionId, ...(periodEnd ? { periodEnd } : {}) },
    ...(effectiveAt ? { effectiveAt } : {}),
  };
}

function invoiceEvent(base: Base, eventName: string, invoiceId: string, invoice: LemonSqueezyInvoice): FulfillmentEvent {
  const subscriptionId = idString(invoice.subscription_id);
  const status = invoice.status?.trim().toLowerCase();
  // A subscription payment refunded in full takes the subscription back, as a refunded order
  // does (and as Stripe's and Paddle Billing's refunds of a renewal do); `partial_refund` is
  // stored only. The status says which; `refunded` alone only where there is no status.
  const refunded = eventName === 'subscription_payment_refunded' && (status ? status === 'refunded' : invoice.refunded === true);
  return {
    ...base,
    ...(refunded ? { businessKey: `refund#invoice:${invoiceId}` } : {}),
    action: refunded ? 'revoke' : 'record',
    scope: subscriptionId,
    customer: customerOf(invoice),
    items: [],
    subscription: { id: subscriptionId },
  };
}

/**
 * `{product_id}:{variant_id}` when the catalog names that variant (a seller selling tiers as
 * variants of one product), else the plain product id — the same rule as Selldone's.
 */
export function productIdOf(catalog: Catalog, productId: number | string, variantId: number | string | null | undefined): string {
  const product = idString(productId);
  if (variantId === undefined || variantId === null) return product;
  const variantKey = `${product}:${idString(variantId)}`;
  return catalogNames(catalog, 'lemonsqueezy', variantKey) ? variantKey : product;
}

function customerOf(object: { user_email?: string | null; user_name?: string | null }): FulfillmentEvent['customer'] {
  const name = text(object.user_name);
  return { email: text(object.user_email) ?? '', ...(name ? { name: clip(name, 200) } : {}) };
}

/** Lemon Squeezy names a product's only variant "Default"; that says nothing to a customer. */
function variantLabel(value: string | null | undefined): string | undefined {
  const label = text(value);
  return label && label.toLowerCase() !== 'default' ? label : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function idString(value: number | string): string {
  return String(value).trim().slice(0, 100);
}

function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : chars.slice(0, max).join('');
}
