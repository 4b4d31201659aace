import { randomInt } from 'node:crypto';
import { SAMPLE_EMAIL, type SampleBuilder } from '../sample';
import paymentOrder from './fixtures/payment-order.json';

/**
 * Selldone samples: an OnlineOrder envelope around a realistic paid basket (two products, one
 * with a variant, two units of the first), sent to `/webhooks/selldone/<secret>`. Selldone signs
 * nothing; the URL secret is the authentication.
 *
 * `--order` is the basket id, so `send PaymentOrder --order 48211` followed by
 * `send ReturnOrder --order 48211` revokes what the first granted.
 */

const EVENTS = ['PaymentOrder', 'CancelProduct', 'ReturnOrder', 'CheckoutOrder', 'ToCustomer'] as const;

/** What the basket looks like when Selldone sends each action. */
const BASKET_STATUS: Record<string, string> = {
  CheckoutOrder: 'Reserved',
  PaymentOrder: 'Payed',
  ToCustomer: 'Payed',
  CancelProduct: 'Canceled',
  ReturnOrder: 'Payed',
};

/** randomInt's upper bound must stay below 2^48. */
const MAX_BASKET_ID = 2 ** 47;

export const selldoneSample: SampleBuilder = {
  events: EVENTS,
  refundEvent: 'CancelProduct',
  soakOrderId: (n) => String(10_000_000 + n),
  build({ secrets, event = 'PaymentOrder', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets.KEYSMITH_SELLDONE_PATH_SECRET;
    if (!secret) throw new Error('KEYSMITH_SELLDONE_PATH_SECRET is not set: cannot build the Selldone webhook URL');
    let body: Buffer;
    let order: string;
    let eventIds: string[];
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { shop?: { id?: unknown }; basket?: { id?: unknown; updated_at?: unknown }; action?: unknown };
      order = String(parsed.basket?.id ?? '');
      eventIds = [[parsed.shop?.id, parsed.basket?.id, parsed.action, parsed.basket?.updated_at].filter((p) => p !== undefined && p !== null).join(':')];
    } else {
      const { _source: _ignored, ...template } = paymentOrder;
      // A wide range: with 900,000 six-digit ids, 1,000 samples shared a basket 42% of the time
      // (the bench then saw two customers' orders as one and "lost" an email).
      const basketId = orderId === undefined ? randomInt(1_000_000, MAX_BASKET_ID) : /^\d+$/.test(orderId) ? Number(orderId) : orderId;
      const updatedAt = new Date().toISOString();
      const envelope = {
        ...template,
        action: event,
        basket: {
          ...template.basket,
          id: basketId,
          code: `SM-${basketId}`,
          status: BASKET_STATUS[event] ?? 'Payed',
          updated_at: updatedAt,
          receiver_info: { ...template.basket.receiver_info, ...(email ? { email } : {}) },
          items: template.basket.items.map((item) => ({
            ...item,
            basket_id: basketId,
            // A return names the item the customer sent back.
            ...(event === 'ReturnOrder' && item.product_id === 1203 ? { returnRequest: { count: 1, reason: 'sample return' } } : {}),
          })),
        },
        user: { ...template.user, ...(email ? { email } : {}) },
      };
      body = Buffer.from(JSON.stringify(envelope));
      order = String(basketId);
      eventIds = [`${template.shop.id}:${basketId}:${event}:${updatedAt}`];
    }
    return {
      method: 'POST',
      path: `/webhooks/selldone/${encodeURIComponent(secret)}`,
      headers: { 'content-type': 'application/json' },
      body,
      orderId: order,
      eventIds,
      // Selldone marks no test orders (normalize.ts).
      testFlag: false,
    };
  },
};
