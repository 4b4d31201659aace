import type { Action, FulfillmentEvent } from '../../domain/events';
import { WebhookRejection, type WebhookRequest } from '../../ingress/types';
import { isoTime } from '../shared/json';
import type { PaddleAlert, PaddleFulfillment } from './schema';

/**
 * Paddle Classic → canonical events. Everything about one order shares the scope `order id`
 * (fulfillment's `p_order_id`, an alert's `order_id`), so a refund lands on the same entitlement
 * and FIFO group as the purchase and is never applied before it.
 */

/**
 * Custom fields the seller adds in Paddle's Webhook Editor; the names are the seller's choice, so
 * the common spellings are recognized, first match wins.
 */
export const EMAIL_FIELDS = ['email', 'customer_email', 'customerEmail'] as const;
export const NAME_FIELDS = ['name', 'customer_name', 'customerName'] as const;
/** A display name for the purchased item (pilotmoon's setup sends a product identifier here). */
export const PRODUCT_NAME_FIELD = 'product';

/**
 * A fulfillment request: "order paid, deliver now". Paddle sends no event id; the request is
 * identified by what it is about, order + product, so a retry (the same request again, up to four
 * times) is the same event and the worker applies it once. In "one request per unit" multibuy
 * mode the per-unit requests are identical too and are treated as retries — see docs/providers/paddle.md.
 */
export function fulfillmentEvent(order: PaddleFulfillment, live: boolean, request: WebhookRequest): FulfillmentEvent {
  const email = firstField(order.fields, EMAIL_FIELDS);
  const name = firstField(order.fields, NAME_FIELDS);
  const itemName = firstField(order.fields, [PRODUCT_NAME_FIELD]);
  return {
    provider: 'paddle',
    eventId: `fulfillment#${order.orderId}#${order.productId}`,
    occurredAt: isoTime(order.eventTime, request.receivedAt),
    action: 'grant',
    reason: 'fulfillment',
    scope: order.orderId,
    live,
    customer: {
      email: email ?? '',
      ...(name !== undefined ? { name } : {}),
    },
    items: [{ productId: order.productId, quantity: order.quantity, ...(itemName !== undefined ? { name: itemName } : {}) }],
  };
}

/**
 * What each alert does to the order's licenses. Only refunds and disputes change anything; every
 * other alert (subscription_*, locker_processed, payment_succeeded, …) is recorded on its order.
 */
export function alertAction(alert: PaddleAlert): Action {
  switch (alert.alert_name) {
    case 'payment_refunded':
      // A refund takes the whole order back. `vat` returns only tax (a business customer's VAT
      // id) and `partial` names no units, so which licenses to take back is the seller's call:
      // those two are recorded; every other refund (`full`, or no type given) revokes.
      return alert.refund_type === 'vat' || alert.refund_type === 'partial' ? 'record' : 'revoke';
    case 'payment_dispute_created':
      // Revoked at once, but reversibly: a won dispute (payment_dispute_closed) reinstates.
      return 'revoke';
    case 'payment_dispute_closed':
      // Paddle: "indicates that the dispute/chargeback was contested and won by Paddle".
      return 'reinstate';
    default:
      return 'record';
  }
}

export function alertEvent(alert: PaddleAlert, live: boolean, request: WebhookRequest): FulfillmentEvent {
  const action = alertAction(alert);
  const orderId = nonEmpty(alert.order_id);
  if (action !== 'record' && orderId === undefined) {
    throw new WebhookRejection('MALFORMED', `order_id: is required for ${alert.alert_name}`);
  }
  // Alerts that are not about an order (subscription_created, …) are kept on their subscription
  // or checkout, or on their own when they name neither.
  const scope = orderId ?? nonEmpty(alert.subscription_id) ?? nonEmpty(alert.checkout_id) ?? `alert#${alert.alert_id}`;
  const email = nonEmpty(alert.email);
  return {
    provider: 'paddle',
    eventId: alert.alert_id,
    occurredAt: isoTime(alert.event_time, request.receivedAt),
    action,
    reason: alert.alert_name,
    scope: clip(scope, 200),
    live,
    customer: { email: email ?? '' },
    // No items: a refund or dispute is about the whole order.
    items: [],
    // A dispute is a hold of its own: only the dispute closed in the seller's favour lifts it.
    ...(alert.alert_name === 'payment_dispute_created' ? { reversible: true, hold: 'disputed' as const } : {}),
    ...(alert.alert_name === 'payment_dispute_closed' ? { hold: 'disputed' as const } : {}),
  };
}

function firstField(fields: Record<string, string>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = nonEmpty(fields[name]);
    if (value !== undefined) return value.trim();
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** At most `max` characters (code points, so an emoji is never cut in half). */
function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : chars.slice(0, max).join('');
}
