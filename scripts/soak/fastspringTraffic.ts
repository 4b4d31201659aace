import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleRequest } from '../../functions/providers/sample';
import { hmacSha256 } from '../../functions/providers/shared/crypto';

/**
 * Genuine FastSpring traffic for long sequences: the documented envelopes (order.completed,
 * subscription.charge.completed, .canceled, .uncanceled, .deactivated, return.created), signed
 * with the stack's webhook secret exactly as FastSpring signs them (base64 HMAC-SHA256 of the body).
 */

export interface Subscription {
  order: string;
  subscription: string;
  product: string;
  email: string;
}

let clock = Date.parse('2026-01-01T00:00:00Z');
/** Event times one minute apart, so every event has its own `created`. */
const tick = () => (clock += 60_000);

function envelope(secret: string, type: string, data: Record<string, unknown>): SampleRequest {
  const id = randomUUID();
  const body = Buffer.from(JSON.stringify({ events: [{ id, processed: false, created: tick(), type, live: true, data }] }));
  return {
    method: 'POST',
    path: '/webhooks/fastspring',
    headers: { 'content-type': 'application/json', 'x-fs-signature': hmacSha256(secret, body).toString('base64') },
    body,
    orderId: String(data.id ?? ''),
    eventIds: [id],
    testFlag: false,
  };
}

const contact = (email: string) => ({ first: 'Long', last: 'Lived', email });
/** The end of the n-th monthly period (epoch ms), as FastSpring's nextChargeDate. */
export const month = (n: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + n * 30 * 86_400_000).getTime();

export function fastspringTraffic(secret: string) {
  return {
    order(sub: Subscription, quantity: number): SampleRequest {
      return envelope(secret, 'order.completed', {
        id: sub.order,
        order: sub.order,
        reference: `REF-${sub.order}`,
        live: true,
        customer: contact(sub.email),
        items: [{ product: sub.product, quantity, subscription: { id: sub.subscription, initialOrderId: sub.order, nextChargeDate: month(0) } }],
      });
    },
    /** The n-th monthly rebill (its own order id, so a resend of it is recognized). */
    charge(sub: Subscription, n: number): SampleRequest {
      return envelope(secret, 'subscription.charge.completed', {
        order: { id: `${sub.order}-R${n}`, customer: contact(sub.email) },
        subscription: { id: sub.subscription, initialOrderId: sub.order, nextChargeDate: month(n) },
      });
    },
    canceled(sub: Subscription, n: number): SampleRequest {
      return envelope(secret, 'subscription.canceled', { id: sub.subscription, initialOrderId: sub.order, deactivationDate: month(n), account: { contact: contact(sub.email) } });
    },
    uncanceled(sub: Subscription): SampleRequest {
      return envelope(secret, 'subscription.uncanceled', { id: sub.subscription, initialOrderId: sub.order, account: { contact: contact(sub.email) } });
    },
    deactivated(sub: Subscription): SampleRequest {
      return envelope(secret, 'subscription.deactivated', { id: sub.subscription, initialOrderId: sub.order, account: { contact: contact(sub.email) } });
    },
    /** A full return (a refund of the whole order). */
    refund(sub: Subscription): SampleRequest {
      const id = `RT-${randomUUID().slice(0, 8)}`;
      return envelope(secret, 'return.created', { id, return: id, original: { id: sub.order, order: sub.order }, customer: contact(sub.email) });
    },
  };
}

/** A catalog with a subscription product (`sub-pro`, a key per unit that follows the subscription) besides the example's catch-all. */
export function writeSubscriptionCatalog(dir: string): string {
  const path = join(dir, 'keysmith.lifecycle.json');
  writeFileSync(
    path,
    JSON.stringify({
      sender: { from: 'licenses@example.com', name: 'Example Software' },
      products: {
        'sub-pro': { name: 'Example Pro (subscription)', match: { fastspring: ['sub-pro'] }, license: { format: 'key', perUnit: true, seats: 'quantity', duration: 'subscription' } },
        default: { name: 'Example App', license: { format: 'key', perUnit: true, seats: 'quantity', duration: 'perpetual' } },
      },
      defaultProduct: 'default',
    }),
  );
  return path;
}
