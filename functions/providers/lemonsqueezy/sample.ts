import { randomInt } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import { hmacSha256 } from '../shared/crypto';
import orderCreated from './fixtures/order-created.json';
import subscriptionCreated from './fixtures/subscription-created.json';
import paymentSuccess from './fixtures/subscription-payment-success.json';

/**
 * Lemon Squeezy samples, signed like Lemon Squeezy signs (hex HMAC-SHA256 of the body): one per
 * event keysmith maps, built from the fixtures (a test-mode store, so `test_mode: true`).
 *
 * `--order` is the order id: `send order_created --order 1841209` then
 * `send subscription_cancelled --order 1841209` cancels the subscription that order started
 * (subscription objects name their order). A payment event names only its subscription, whose id
 * in these samples is the order id too.
 */

const EVENTS = [
  'order_created',
  'order_refunded',
  'subscription_created',
  'subscription_updated',
  'subscription_cancelled',
  'subscription_resumed',
  'subscription_expired',
  'subscription_paused',
  'subscription_unpaused',
  'subscription_payment_success',
  'subscription_payment_refunded',
] as const;

/** randomInt's upper bound must stay below 2^48. */
const MAX_ID = 2 ** 47;
const YEAR_MS = 365 * 86_400_000;

// biome-ignore lint/suspicious/noExplicitAny: fixture documents are edited field by field; their types are the fixtures'
type Json = Record<string, any>;

export const lemonsqueezySample: SampleBuilder = {
  events: EVENTS,
  refundEvent: 'order_refunded',
  soakOrderId: (n) => String(700_000_000 + n),
  build({ secrets, event = 'order_created', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets.KEYSMITH_LEMONSQUEEZY_SECRET;
    if (!secret) throw new Error('KEYSMITH_LEMONSQUEEZY_SECRET is not set: cannot sign a Lemon Squeezy request');
    let document: Json;
    let body: Buffer;
    if (file) {
      body = file;
      document = JSON.parse(file.toString('utf8')) as Json;
    } else {
      document = sampleDocument(event, orderId ?? String(randomInt(1_000_000, MAX_ID)), email, new Date());
      body = Buffer.from(JSON.stringify(document));
    }
    const attributes = (document.data?.attributes ?? {}) as Json;
    const name = String(document.meta?.event_name ?? event);
    const order = String(document.data?.type === 'orders' ? document.data.id : (attributes.order_id ?? attributes.subscription_id ?? ''));
    return {
      method: 'POST',
      path: '/webhooks/lemonsqueezy',
      headers: { 'content-type': 'application/json', 'x-event-name': name, 'x-signature': hmacSha256(secret, body).toString('hex') },
      body,
      orderId: order,
      eventIds: [`${name}:${document.data?.type}:${document.data?.id}:${attributes.updated_at ?? attributes.created_at ?? ''}`],
      testFlag: !file,
    };
  },
};

function sampleDocument(event: string, order: string, email: string, now: Date): Json {
  const at = now.toISOString();
  const renewsAt = new Date(now.getTime() + YEAR_MS).toISOString();
  if (event === 'order_created' || event === 'order_refunded') {
    const { _source: _ignored, ...template } = structuredClone(orderCreated) as Json;
    const refunded = event === 'order_refunded';
    Object.assign(template.meta, { event_name: event });
    Object.assign(template.data, { id: order });
    Object.assign(template.data.attributes, {
      user_email: email,
      created_at: at,
      updated_at: at,
      ...(refunded ? { status: 'refunded', status_formatted: 'Refunded', refunded: true, refunded_at: at, refunded_amount: template.data.attributes.total } : {}),
    });
    Object.assign(template.data.attributes.first_order_item, { order_id: Number(order) || 0, created_at: at, updated_at: at });
    return template;
  }
  if (event === 'subscription_payment_success' || event === 'subscription_payment_refunded') {
    const { _source: _ignored, ...template } = structuredClone(paymentSuccess) as Json;
    const refund = event === 'subscription_payment_refunded' ? { status: 'refunded', status_formatted: 'Refunded', refunded: true, refunded_at: at } : {};
    Object.assign(template.meta, { event_name: event });
    Object.assign(template.data.attributes, { subscription_id: Number(order) || order, user_email: email, created_at: at, updated_at: at, ...refund });
    template.data.id = String(randomInt(1_000_000, MAX_ID));
    return template;
  }
  const { _source: _ignored, ...template } = structuredClone(subscriptionCreated) as Json;
  const status: Record<string, Json> = {
    subscription_created: { status: 'active', status_formatted: 'Active' },
    subscription_updated: { status: 'active', status_formatted: 'Active' },
    subscription_cancelled: { status: 'cancelled', status_formatted: 'Cancelled', cancelled: true, ends_at: renewsAt },
    subscription_resumed: { status: 'active', status_formatted: 'Active' },
    subscription_expired: { status: 'expired', status_formatted: 'Expired', cancelled: true, ends_at: at },
    subscription_paused: { status: 'paused', status_formatted: 'Paused', pause: { mode: 'void', resumes_at: null } },
    subscription_unpaused: { status: 'active', status_formatted: 'Active' },
  };
  Object.assign(template.meta, { event_name: event });
  // The samples give the subscription the order's id (see above).
  template.data.id = order;
  Object.assign(template.data.attributes, { order_id: Number(order) || order, user_email: email, renews_at: renewsAt, updated_at: at, ...(status[event] ?? {}) });
  return template;
}
