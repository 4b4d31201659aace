import type { SampleBuilder } from '../sample';
import { randomId, SAMPLE_EMAIL } from '../sample';
import { hmacSha256 } from '../shared/crypto';
import orderCompleted from './fixtures/order-completed.json';

/**
 * FastSpring samples, HMAC-signed: the documented order.completed envelope with fresh ids, and
 * `return.created` — a full return of that order's items (`--order` names the order to take back;
 * the fixture's item list, so every license the order issued is revoked).
 */
export const fastspringSample: SampleBuilder = {
  events: ['order.completed', 'return.created'],
  refundEvent: 'return.created',
  soakOrderId: (n, run) => `KSSOAK${run}${n}`,
  build({ secrets, event = 'order.completed', file, email = SAMPLE_EMAIL, orderId }) {
    const secret = secrets.KEYSMITH_FASTSPRING_SECRET;
    if (!secret) throw new Error('KEYSMITH_FASTSPRING_SECRET is not set: cannot sign a FastSpring request');
    let body: Buffer;
    let order: string;
    let eventIds: string[];
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { events?: { id?: string; data?: { id?: string } }[] };
      order = parsed.events?.[0]?.data?.id ?? '';
      eventIds = (parsed.events ?? []).map((e) => e.id ?? '');
    } else if (event === 'return.created') {
      order = orderId ?? randomId('KS');
      const returned = returnCreated(order, email);
      body = Buffer.from(JSON.stringify({ events: [returned] }));
      eventIds = [returned.id];
    } else {
      const sample = structuredClone(orderCompleted) as typeof orderCompleted;
      const completed = sample.events[0]!;
      order = orderId ?? randomId('KS');
      completed.id = randomId();
      completed.created = Date.now();
      completed.data.id = order;
      completed.data.order = order;
      completed.data.reference = `KEYSMITH-${order.slice(2, 10).toUpperCase()}`;
      // FastSpring's test-order flag, on the event and on the order.
      completed.live = false;
      completed.data.live = false;
      completed.data.customer.email = email;
      completed.data.account.contact.email = email;
      body = Buffer.from(JSON.stringify(sample));
      eventIds = [completed.id];
    }
    return {
      method: 'POST',
      path: '/webhooks/fastspring',
      headers: { 'content-type': 'application/json', 'x-fs-signature': hmacSha256(secret, body).toString('base64') },
      body,
      orderId: order,
      eventIds,
      testFlag: !file,
    };
  },
};

/** A `return.created` event taking back every item of the sample order `order`. */
function returnCreated(order: string, email: string | undefined) {
  const completed = orderCompleted.events[0]!;
  const returnId = randomId('RT');
  const contact = { ...completed.data.account.contact, ...(email ? { email } : {}) };
  return {
    id: randomId(),
    processed: false,
    created: Date.now(),
    type: 'return.created',
    live: false,
    data: {
      id: returnId,
      return: returnId,
      reference: `KEYSMITH-${order.slice(2, 10).toUpperCase()}-R`,
      completed: true,
      changed: Date.now(),
      live: false,
      currency: completed.data.currency,
      reason: 'CUSTOMER_REQUEST',
      note: 'sample return',
      type: 'RETURN',
      original: { id: order, order, reference: `KEYSMITH-${order.slice(2, 10).toUpperCase()}` },
      customer: contact,
      items: completed.data.items.map((item) => ({ product: item.product, quantity: item.quantity, display: item.display, sku: item.sku })),
    },
  };
}
