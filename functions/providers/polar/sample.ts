import { createHash, createHmac, randomUUID } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import orderPaid from './fixtures/order-paid.json';
import subscription from './fixtures/subscription.json';

/**
 * Polar samples, signed the Standard Webhooks way with the secret as Polar shows it (its UTF-8
 * bytes are the HMAC key, see ./verify.ts), with a fresh `webhook-id` and the current time.
 *
 * Events: `order.paid` (a one-time purchase), `order.paid:subscription_create` (the first order
 * of a subscription), `order.paid:subscription_cycle` (a renewal), `order.refunded` (a one-time
 * order refunded in full) and the subscription events. `--order` is the order id; the samples'
 * subscription id is derived from it, so `send order.paid:subscription_create --order X` then
 * `send subscription.canceled --order X` cancel the subscription that order started.
 */

const EVENTS = [
  'order.paid',
  'order.paid:subscription_create',
  'order.paid:subscription_cycle',
  'order.refunded',
  'subscription.active',
  'subscription.canceled',
  'subscription.uncanceled',
  'subscription.revoked',
] as const;

const YEAR_MS = 365 * 86_400_000;

// biome-ignore lint/suspicious/noExplicitAny: fixture documents are edited field by field; their types are the fixtures'
type Json = Record<string, any>;

export const polarSample: SampleBuilder = {
  events: EVENTS,
  // A one-time order refunded in full.
  refundEvent: 'order.refunded',
  soakOrderId: (n, run) => uuidFrom(`keysmith-soak:${run}:${n}`),
  build({ secrets, event = 'order.paid', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets.KEYSMITH_POLAR_WEBHOOK_SECRET;
    if (!secret) throw new Error('KEYSMITH_POLAR_WEBHOOK_SECRET is not set: cannot sign a Polar request');
    const now = new Date();
    let body: Buffer;
    let document: Json;
    if (file) {
      body = file;
      document = JSON.parse(file.toString('utf8')) as Json;
    } else {
      document = sampleDocument(event, orderId ?? randomUUID(), email, now);
      body = Buffer.from(JSON.stringify(document));
    }
    const webhookId = randomUUID();
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${webhookId}.${timestamp}.`).update(body).digest('base64');
    const data = (document.data ?? {}) as Json;
    return {
      method: 'POST',
      path: '/webhooks/polar',
      headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` },
      body,
      orderId: String(String(document.type).startsWith('order.') ? data.id : (data.id ?? '')),
      eventIds: [webhookId],
      // Polar has no test flag (its sandbox is a separate environment).
      testFlag: false,
    };
  },
};

/** The sample subscription id of an order id: a stable UUID-shaped hash. */
export function sampleSubscriptionId(order: string): string {
  return uuidFrom(`keysmith-sample-subscription:${order}`);
}

/** A stable UUID (version 4 in shape) derived from `seed`, like Polar's ids. */
function uuidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function sampleDocument(event: string, order: string, email: string, now: Date): Json {
  const at = now.toISOString();
  const periodEnd = new Date(now.getTime() + YEAR_MS).toISOString();
  const subscriptionId = sampleSubscriptionId(order);
  if (event.startsWith('order.')) {
    const { _source: _ignored, ...template } = structuredClone(orderPaid) as Json;
    const [type, billingReason = 'purchase'] = event.split(':') as [string, string?];
    const recurring = billingReason !== 'purchase';
    const sub = structuredClone(subscription.data) as Json;
    Object.assign(sub, { id: subscriptionId, current_period_start: at, current_period_end: periodEnd, started_at: at });
    const { customer: _c, product: _p, discount: _d, prices: _pr, meters: _m, pending_update: _u, custom_field_data: _f, ...orderSubscription } = sub;
    Object.assign(template, { type, timestamp: at });
    Object.assign(template.data, {
      id: order,
      created_at: at,
      modified_at: at,
      billing_reason: billingReason,
      ...(type === 'order.refunded'
        ? { status: 'refunded', refunded_amount: template.data.net_amount, refunded_tax_amount: template.data.tax_amount, refundable_amount: 0, refundable_tax_amount: 0 }
        : {}),
      ...(recurring
        ? {
            subscription_id: subscriptionId,
            subscription: orderSubscription,
            product_id: sub.product_id,
            product: { ...template.data.product, id: sub.product_id, name: sub.product.name, is_recurring: true, recurring_interval: 'year', recurring_interval_count: 1 },
          }
        : {}),
    });
    template.data.customer.email = email;
    return template;
  }
  const { _source: _ignored, ...template } = structuredClone(subscription) as Json;
  const state: Record<string, Json> = {
    'subscription.active': {},
    'subscription.canceled': { cancel_at_period_end: true, canceled_at: at, ends_at: periodEnd, customer_cancellation_reason: 'too_expensive' },
    'subscription.uncanceled': {},
    'subscription.revoked': { status: 'canceled', canceled_at: at, ends_at: at, ended_at: at },
  };
  Object.assign(template, { type: event, timestamp: at });
  Object.assign(template.data, { id: subscriptionId, modified_at: at, current_period_start: at, current_period_end: periodEnd, started_at: at, ...(state[event] ?? {}) });
  template.data.customer.email = email;
  return template;
}
